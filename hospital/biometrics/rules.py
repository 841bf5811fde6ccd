"""Who may practise, and when a face verification is fresh enough. Pure.

FACE-02: a doctor verifies by face before taking a patient, a pharmacist before reviewing; FACE-03: signing
needs a fresher verification; FACE-04: repeated failures lock verification.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from hospital.biometrics.values import BurstObservation, FrameObservation, LivenessVerdict
from hospital.core.errors import AccessRefused, LockedOut, RuleViolation
from hospital.core.rule_registry import rule

__all__ = [
    "LIVENESS_MOVES",
    "PRACTISING_ROLES",
    "check_biometric_consent",
    "check_face_not_locked",
    "check_face_of_no_other_clinician",
    "check_fresh_for_signing",
    "check_fresh_verification",
    "check_may_practise",
    "face_lock_after_failure",
    "judge_liveness",
]

PRACTISING_ROLES = frozenset({"doctor", "pharmacist", "nurse"})
LIVENESS_MOVES = ("turn_left", "turn_right", "closer")


@rule("FACE-01", "A face template is used only while the clinician's own separate biometric consent stands",
      source="PD 13, MS 信息使用; 个人信息保护法 第二十九条、第十五条")
def check_biometric_consent(given_at: datetime | None, withdrawn_at: datetime | None) -> None:
    """Given by the clinician in their own session (not ticked by the administrator) and not withdrawn: until
    then the enrolment is pending and no verification, practice session or clinical act follows."""
    if given_at is None:
        raise AccessRefused("FACE-01", "biometric data is sensitive personal information: give your own separate "
                                       "consent to the face template (/api/me/biometric-consent) before practising")
    if withdrawn_at is not None:
        raise AccessRefused("FACE-01", "the biometric consent was withdrawn: the face template is deleted and "
                                       "practice has stopped", withdrawn_at=withdrawn_at.isoformat())


@rule("FACE-01", "One face, one clinician: a face already enrolled for another clinician is not enrolled again",
      source="PD 13, SP 实名认证, SP 准入 (STAFF-01)")
def check_face_of_no_other_clinician(distances: Mapping[uuid.UUID, float], duplicate_distance: float) -> None:
    """`distances`: the new template's distance to every *other* clinician's enrolment, by user id.

    A face within `duplicate_distance` of another clinician's would let either verify as the other (the first
    doctor's photo then opens the second doctor's practice session), so it is refused whatever the papers say.
    """
    if not distances:
        return
    other, nearest = min(distances.items(), key=lambda item: item[1])
    if nearest <= duplicate_distance:
        raise RuleViolation("FACE-01", "this face is already enrolled for another clinician: one face, one clinician",
                            reason="face_of_another_clinician", other_user_id=str(other),
                            distance=round(nearest, 3), duplicate_distance=duplicate_distance)


@rule("FACE-02", "Only clinicians hold practice sessions; patients and administrators never do",
      source="PD 13, SP 实名认证")
def check_may_practise(role: str) -> None:
    if role not in PRACTISING_ROLES:
        raise AccessRefused("FACE-02", f"a {role} does not practise and cannot hold a practice session")


@rule("FACE-02", "Acting as a clinician needs a face verification younger than the window",
      source="PD 13 (接诊前), SP 实名认证")
def check_fresh_verification(role: str, verified_at: datetime | None, now: datetime, window_seconds: int,
                             *, rule_id: str = "FACE-02", act: str = "practise") -> None:
    """FACE-02 for taking patients and reviewing (30 minutes by default); FACE-03 for signing (5 minutes)."""
    check_may_practise(role)
    if verified_at is None:
        raise AccessRefused(rule_id, f"verify your face before you {act}", window_seconds=window_seconds)
    age = now - verified_at
    if age > timedelta(seconds=window_seconds) or age < timedelta(seconds=-60):
        raise AccessRefused(rule_id, f"your face verification is {int(age.total_seconds())} s old; {act} needs "
                                     f"one younger than {window_seconds} s", window_seconds=window_seconds)


@rule("FACE-04", "Repeated failed verifications lock the account's verification", source="PD 10, SP 全程留痕")
def check_face_not_locked(locked_until: datetime | None, now: datetime) -> None:
    if locked_until is not None and locked_until > now:
        raise LockedOut("FACE-04", "face verification is locked after repeated failures; an administrator has "
                                   "been alerted", locked_until=locked_until)


def face_lock_after_failure(failures: int, max_failures: int, now: datetime, lock_seconds: int) -> datetime | None:
    return now + timedelta(seconds=lock_seconds) if failures >= max_failures else None


@rule("FACE-03", "Signing a prescription needs a face verification younger than the signing window (5 minutes)",
      source="SP 实名认证")
def check_fresh_for_signing(role: str, verified_at: datetime | None, now: datetime, window_seconds: int) -> None:
    check_fresh_verification(role, verified_at, now, window_seconds, rule_id="FACE-03", act="sign")


def _pose(frame: FrameObservation, first: FrameObservation, turn_yaw: float, closer_ratio: float) -> str | None:
    turned = frame.yaw - first.yaw
    if turned >= turn_yaw:
        return "turn_left"
    if turned <= -turn_yaw:
        return "turn_right"
    if frame.eye_span >= first.eye_span * closer_ratio:
        return "closer"
    return None


@rule("FACE-02", "Liveness: every frame of the burst is the enrolled clinician, the frames differ as a live "
                 "scene does, and the face makes the challenge's moves in its order", source="PD 13, SP 实名认证")
def judge_liveness(steps: Sequence[str], burst: BurstObservation, *, tolerance: float, replay_distance: float,
                   turn_yaw: float, closer_ratio: float, min_frame_change: float) -> LivenessVerdict:
    """The decision on a burst answering `steps` (a sequence of LIVENESS_MOVES).

    Frames are compared with the first: a yaw change of ±`turn_yaw` is a turn, an eye span `closer_ratio` times
    the first's is coming closer, anything else is rest. The moves shown, rests dropped and repeats merged, must
    be exactly `steps`: a move missing, an extra one or the right moves in another order all refuse.
    """
    frames = burst.frames
    worst = max((f.distance for f in frames), default=None)

    def refuse(reason: str, detail: str, performed: tuple[str, ...] = ()) -> LivenessVerdict:
        return LivenessVerdict(False, reason, performed, worst, detail)

    for index, frame in enumerate(frames):
        if frame.distance > tolerance:
            return refuse("mismatch", f"frame {index + 1} shows someone else (distance {frame.distance:.3f})")
        if frame.distance < replay_distance:
            return refuse("replay", f"frame {index + 1} is the enrolment photo itself (distance {frame.distance:.3f})")
    for index, change in enumerate(burst.changes):
        if change < min_frame_change:
            return refuse("still", f"frames {index + 1} and {index + 2} are the same picture (change {change:.2f})")
    performed: list[str] = []
    for frame in frames[1:]:
        pose = _pose(frame, frames[0], turn_yaw, closer_ratio)
        if pose is not None and (not performed or performed[-1] != pose):
            performed.append(pose)
    shown = tuple(performed)
    if shown == tuple(steps):
        return LivenessVerdict(True, "match", shown, worst, "every frame matches and the moves follow the challenge")
    if not shown:
        return refuse("no_motion", "the face did not move as the challenge asked", shown)
    if sorted(shown) == sorted(steps):
        return refuse("wrong_order", f"the moves came as {', '.join(shown)}, not {', '.join(steps)}", shown)
    return refuse("moves_not_performed", f"the moves came as {', '.join(shown)}, not {', '.join(steps)}", shown)
