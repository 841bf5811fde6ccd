"""Face verification by the logged-in clinician, and the practice gate it opens (FACE-02)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.biometrics import gate, service
from hospital.context import HospitalContext
from hospital.identity.guards import principal_of, requires_clinician
from hospital.web.http import actor_of

__all__ = ["FaceVerificationController"]


class FaceVerificationController(Controller):
    path = "/api/me"
    tags = ["biometrics"]

    @post("/face-verifications", guards=[requires_clinician], status_code=201,
          summary="Verify the clinician's face from a webcam image; 201 opens a practice session (FACE-02)")
    async def verify(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)]
                     ) -> dict[str, Any]:
        upload = gate.single_upload(data, "image")
        issued = await service.verify_face(db_session, ctx, actor_of(request), principal_of(request),
                                           await upload.read(), upload.content_type)
        return {"practice_session_id": str(issued.practice_session_id), "access_token": issued.access_token,
                "token_type": "Bearer", "expires_in": issued.expires_in,  # nosec B105
                "face_verified_at": ctx.now().isoformat(),
                "distance": round(issued.distance, 4), "tolerance": issued.tolerance}

    @get("/practice-session", summary="The caller's practice session; 403 FACE-02 without a fresh verification")
    async def practice_session(self, request: Request[Any, Any, Any], ctx: HospitalContext) -> dict[str, Any]:
        principal = principal_of(request)
        gate.require_practice_session(ctx, principal)
        assert principal.face_verified_at is not None
        return {"practice_session_id": str(principal.practice_session_id),
                "face_verified_at": principal.face_verified_at.isoformat(),
                "window_seconds": ctx.settings.practice_window_seconds}
