"""The live face check of the doctor's video, backed by the hospital's face pool (FACE-02).

The enrolment template is opened once when the doctor joins and kept only in this closure, in memory, for the
length of the call; it is never logged or sent anywhere (FACE-01).
"""

from __future__ import annotations

from collections.abc import Callable

from hospital.biometrics.values import Verification, VerificationReason
from hospital.context import HospitalContext
from hospital.core.errors import RuleViolation
from hospital.video.contracts import CheckFace, FaceCheck, RGBArray

__all__ = ["CheckerFactory", "checker_for", "face_check_of", "pool_face_checker"]

# `ctx.face_checker`, when set, replaces the pool-backed checker (tests, or another engine).
CheckerFactory = Callable[[HospitalContext, bytes], CheckFace]


def face_check_of(verification: Verification) -> FaceCheck:
    """A verification of one frame as the face watch reads it. The enrolment photo itself held up to the
    camera (replay) is a face that is not the live doctor: a mismatch."""
    match = verification.match and verification.reason is VerificationReason.MATCH
    return FaceCheck(present=True, match=match, distance=round(verification.distance, 4))


def pool_face_checker(ctx: HospitalContext, template: bytes) -> CheckFace:
    """Checks frames with `ctx.face_pool().verify_frame` against the opened template."""

    async def check(rgb: RGBArray) -> FaceCheck:
        try:
            verification = await ctx.face_pool().verify_frame(template, rgb)
        except RuleViolation as refused:
            # No face: nobody in the doctor's chair. Several faces: someone besides the doctor, not a match.
            several = refused.extra.get("reason") == "several_faces"
            return FaceCheck(present=several, match=False)
        return face_check_of(verification)

    return check


def checker_for(ctx: HospitalContext, template: bytes) -> CheckFace:
    factory: CheckerFactory = ctx.face_checker or pool_face_checker
    return factory(ctx, template)
