"""Face verification by the logged-in clinician, and the practice gate it opens (FACE-02)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.biometrics import gate
from hospital.biometrics.service import verification as face_verification
from hospital.context import HospitalContext
from hospital.contracts.face_views import (
    FaceVerificationModes,
    LivenessChallenge,
    PracticeSessionOpened,
    PracticeSessionView,
)
from hospital.core.errors import AccessRefused, LockedOut
from hospital.core.problems import refuses
from hospital.identity.guards import principal_of, requires_clinician
from hospital.web.http import actor_of

__all__ = ["FaceBurstForm", "FaceImageForm", "FaceVerificationController"]


@dataclass
class FaceImageForm:
    """One webcam still as the legacy verification reads it (multipart/form-data, FACE-02): the file `image`."""

    image: UploadFile


@dataclass
class FaceBurstForm:
    """A liveness challenge's answer as the handler reads it (multipart/form-data, FACE-02): the challenge's `nonce`
    and the frames in capture order as repeated `frames` files (one file is a list of one)."""

    nonce: str
    frames: list[UploadFile]


def _opened(ctx: HospitalContext, issued: face_verification.IssuedPracticeSession) -> PracticeSessionOpened:
    return PracticeSessionOpened(practice_session_id=str(issued.practice_session_id),
                                 access_token=issued.access_token, token_type="Bearer",  # nosec B106
                                 expires_in=issued.expires_in, face_verified_at=ctx.now().isoformat(),
                                 distance=round(issued.distance, 4), tolerance=issued.tolerance)


class FaceVerificationController(Controller):
    path = "/api/me"
    tags = ["biometrics"]

    @refuses(LockedOut)  # repeated failed verifications (FACE-04)
    @post("/face-verifications", guards=[requires_clinician], status_code=201,
          summary="LEGACY: verify the clinician's face from one webcam image; 201 opens a practice session (FACE-02)",
          description="One still image proves no liveness: off in production (HOSPITAL_FACE_SINGLE_IMAGE), where "
                      "403 FACE-02 reason liveness_required sends the client to POST /api/me/face-challenges.")
    async def verify(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     data: Annotated[FaceImageForm, Body(media_type=RequestEncodingType.MULTI_PART)]
                     ) -> PracticeSessionOpened:
        if not ctx.settings.single_image_verification:
            raise AccessRefused("FACE-02", "a single image is not accepted here: answer a liveness challenge "
                                           "(POST /api/me/face-challenges)", reason="liveness_required")
        upload = data.image
        issued = await face_verification.verify_face(db_session, ctx, actor_of(request), principal_of(request),
                                           await upload.read(), upload.content_type)
        return _opened(ctx, issued)

    @get("/face-verification-modes", guards=[requires_clinician],
         summary="How this hospital verifies faces: the liveness challenge always; one still image only if allowed")
    async def modes(self, ctx: HospitalContext) -> FaceVerificationModes:
        return FaceVerificationModes(liveness_challenge=True, single_image=ctx.settings.single_image_verification)

    @post("/face-challenges", guards=[requires_clinician], status_code=201,
          summary="A liveness challenge: moves to make in order, a nonce and a deadline (FACE-02)")
    async def challenge(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext
                        ) -> LivenessChallenge:
        issued = await face_verification.issue_challenge(db_session, ctx, actor_of(request), principal_of(request))
        return LivenessChallenge(challenge_id=str(issued.challenge_id), nonce=issued.nonce, steps=list(issued.steps),
                                 expires_at=issued.expires_at.isoformat(), min_frames=issued.min_frames,
                                 max_frames=issued.max_frames)

    @post("/face-challenges/{challenge_id:uuid}/burst", guards=[requires_clinician], status_code=201,
          summary="Answer a liveness challenge with a burst of frames; 201 opens a practice session (FACE-02)",
          description="multipart: `nonce` (the challenge's), and the frames in capture order as repeated `frames` "
                      "files (JPEG, PNG or WebP, one camera's size).")
    async def burst(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                    challenge_id: uuid.UUID,
                    data: Annotated[FaceBurstForm, Body(media_type=RequestEncodingType.MULTI_PART)]
                    ) -> PracticeSessionOpened:
        frames: list[tuple[bytes, str | None]] = [(await u.read(), u.content_type) for u in data.frames]
        issued = await face_verification.answer_challenge(db_session, ctx, actor_of(request), principal_of(request),
                                                challenge_id, data.nonce, frames)
        return _opened(ctx, issued)

    @get("/practice-session", summary="The caller's practice session; 403 FACE-02 without a fresh verification")
    async def practice_session(self, request: Request[Any, Any, Any], ctx: HospitalContext) -> PracticeSessionView:
        principal = principal_of(request)
        gate.require_practice_session(ctx, principal)
        assert principal.face_verified_at is not None
        return PracticeSessionView(practice_session_id=str(principal.practice_session_id),
                                   face_verified_at=principal.face_verified_at.isoformat(),
                                   window_seconds=ctx.settings.practice_window_seconds)
