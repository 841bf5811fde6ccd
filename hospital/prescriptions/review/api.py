"""The pharmacist's review over HTTP: the queue, and the signed decision (RX-06)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.prescription_views import PrescriptionView
from hospital.contracts.prescriptions import RejectionReason
from hospital.identity.guards import principal_of, requires_doctor, requires_pharmacist
from hospital.prescriptions import queries as prescriptions
from hospital.prescriptions.review import queries, service
from hospital.prescriptions.rules import rejection_reasons
from hospital.signing.api import DeviceSignatureBody, device_signature
from hospital.web.http import actor_of

__all__ = ["ReviewController"]

Text = Annotated[str, msgspec.Meta(max_length=500)]


class AcknowledgementBody(msgspec.Struct, forbid_unknown_fields=True):
    finding: Annotated[int, msgspec.Meta(ge=0, le=200)]  # the index in the prescription's `findings`
    reason: Annotated[str, msgspec.Meta(max_length=64)]  # an AcknowledgementReason code


class DoubleCheckBody(msgspec.Struct, forbid_unknown_fields=True):
    drug_code: Annotated[str, msgspec.Meta(max_length=64)]  # a high-alert drug of the prescription
    checks: Annotated[list[Annotated[str, msgspec.Meta(max_length=16)]], msgspec.Meta(max_length=10)]  # DoubleCheck


class ReviewBody(msgspec.Struct, forbid_unknown_fields=True):
    decision: str  # approve | reject
    reasons: Annotated[list[Text], msgspec.Meta(max_length=20)] = []  # notes to the doctor
    # rejecting: at least one 处方点评 code (prescriptions/data/rejection_reasons.csv; GET /api/reviews/reasons)
    reason_codes: Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(max_length=20)] = []
    version: int | None = None  # the version the pharmacist saw; a later change is 409
    # approving: one per warning finding, with a coded reason; part of the signed review (RX-06)
    acknowledgements: Annotated[list[AcknowledgementBody], msgspec.Meta(max_length=200)] = []
    # approving a high-alert drug (高警示药品): the pharmacist's recorded double check of each, signed (RX-06)
    double_checks: Annotated[list[DoubleCheckBody], msgspec.Meta(max_length=10)] = []
    signature: DeviceSignatureBody | None = None  # the pharmacist's device signs the decision (RX-05)


class WithdrawalBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]  # why the doctor withdraws it (RX-06)


class ReviewController(Controller):
    path = "/api"
    tags = ["prescriptions"]

    @get("/reviews/queue", guards=[requires_pharmacist],
         summary="Prescriptions pending review, oldest first, with their rule findings (RX-06)")
    async def review_queue(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                           ctx: HospitalContext) -> list[PrescriptionView]:
        return await queries.review_queue(db_session, ctx, principal_of(request), actor=actor_of(request))

    @get("/reviews/reasons", guards=[requires_pharmacist],
         summary="The coded rejection reasons (处方点评 categories) a rejection names (RX-06)")
    async def rejection_reasons(self) -> list[RejectionReason]:
        return msgspec.convert([dict(row) for row in rejection_reasons().values()], list[RejectionReason])

    @post("/prescriptions/{prescription_id:uuid}/claim", guards=[requires_pharmacist], status_code=200,
          summary="Take a pending prescription to review: others no longer see it until decided or the claim "
                  "lapses (RX-06)")
    async def claim(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                    prescription_id: uuid.UUID) -> PrescriptionView:
        principal = principal_of(request)
        await service.claim_prescription(db_session, ctx, actor_of(request), principal, prescription_id)
        return await prescriptions.get_prescription(db_session, ctx, principal, prescription_id,
                                                    actor=actor_of(request))

    @post("/prescriptions/{prescription_id:uuid}/release", guards=[requires_pharmacist], status_code=204,
          summary="Give a claimed prescription back to the queue, undecided (RX-06)")
    async def release(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                      prescription_id: uuid.UUID) -> None:
        await service.release_claim(db_session, ctx, actor_of(request), principal_of(request), prescription_id)

    @post("/prescriptions/{prescription_id:uuid}/review", guards=[requires_pharmacist], status_code=200,
          summary="Approve, or reject with reasons; signed by the pharmacist (RX-06, FACE-02)")
    async def review(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     prescription_id: uuid.UUID, data: ReviewBody) -> PrescriptionView:
        principal = principal_of(request)
        await service.review_prescription(db_session, ctx, actor_of(request), principal, prescription_id,
                                          data.decision, data.reasons, data.version,
                                          acknowledgements=[(a.finding, a.reason) for a in data.acknowledgements],
                                          reason_codes=data.reason_codes,
                                          double_checks=[(d.drug_code, d.checks) for d in data.double_checks],
                                          signature=device_signature(data.signature))
        return await prescriptions.get_prescription(db_session, ctx, principal, prescription_id,
                                                    actor=actor_of(request))

    @post("/prescriptions/{prescription_id:uuid}/withdrawal", guards=[requires_doctor], status_code=200,
          summary="The prescriber withdraws a rejected or undecided prescription: it is voided (RX-06, FACE-02)")
    async def withdraw(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       prescription_id: uuid.UUID, data: WithdrawalBody) -> PrescriptionView:
        principal = principal_of(request)
        await service.withdraw_prescription(db_session, ctx, actor_of(request), principal, prescription_id,
                                            data.reason)
        return await prescriptions.get_prescription(db_session, ctx, principal, prescription_id,
                                                    actor=actor_of(request))
