"""The pharmacist's review over HTTP: the queue, and the signed decision (RX-06)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.identity.guards import principal_of, requires_pharmacist
from hospital.prescriptions import queries as prescriptions
from hospital.prescriptions.review import queries, service
from hospital.signing.api import DeviceSignatureBody, device_signature
from hospital.web.http import actor_of

__all__ = ["ReviewController"]

Text = Annotated[str, msgspec.Meta(max_length=500)]


class AcknowledgementBody(msgspec.Struct, forbid_unknown_fields=True):
    finding: Annotated[int, msgspec.Meta(ge=0, le=200)]  # the index in the prescription's `findings`
    reason: Annotated[str, msgspec.Meta(max_length=64)]  # an AcknowledgementReason code


class ReviewBody(msgspec.Struct, forbid_unknown_fields=True):
    decision: str  # approve | reject
    reasons: Annotated[list[Text], msgspec.Meta(max_length=20)] = []
    version: int | None = None  # the version the pharmacist saw; a later change is 409
    # approving: one per warning finding, with a coded reason; part of the signed review (RX-06)
    acknowledgements: Annotated[list[AcknowledgementBody], msgspec.Meta(max_length=200)] = []
    signature: DeviceSignatureBody | None = None  # the pharmacist's device signs the decision (RX-05)


class ReviewController(Controller):
    path = "/api"
    tags = ["prescriptions"]

    @get("/reviews/queue", guards=[requires_pharmacist],
         summary="Prescriptions pending review, oldest first, with their rule findings (RX-06)")
    async def review_queue(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                           ctx: HospitalContext) -> list[dict[str, Any]]:
        return await queries.review_queue(db_session, ctx, principal_of(request), actor=actor_of(request))

    @post("/prescriptions/{prescription_id:uuid}/review", guards=[requires_pharmacist], status_code=200,
          summary="Approve, or reject with reasons; signed by the pharmacist (RX-06, FACE-02)")
    async def review(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     prescription_id: uuid.UUID, data: ReviewBody) -> dict[str, Any]:
        principal = principal_of(request)
        await service.review_prescription(db_session, ctx, actor_of(request), principal, prescription_id,
                                          data.decision, data.reasons, data.version,
                                          acknowledgements=[(a.finding, a.reason) for a in data.acknowledgements],
                                          signature=device_signature(data.signature))
        return await prescriptions.get_prescription(db_session, ctx, principal, prescription_id,
                                                    actor=actor_of(request))
