"""The patient's safety context over HTTP (RX-04): the patient's own, and a visit's, confirmed by its doctor."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post, put
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.prescription_views import SafetyContextView
from hospital.identity.guards import principal_of, requires_doctor, requires_patient, requires_role
from hospital.identity.models import Role
from hospital.prescriptions.formulary.values import Impairment
from hospital.prescriptions.safety import service
from hospital.prescriptions.safety.values import AllergyStatus, Pregnancy, SafetyContext
from hospital.web.http import actor_of

__all__ = ["SafetyContextController"]


class SafetyContextBody(msgspec.Struct, forbid_unknown_fields=True):
    """`allergy_status` is required: coded `allergies`, or `no_known_allergies` (never an empty default)."""

    allergy_status: AllergyStatus
    allergies: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=30)] = []
    pregnancy: Pregnancy = Pregnancy.NOT_APPLICABLE
    lactating: bool = False
    renal: Impairment = Impairment.NONE
    egfr: Annotated[int, msgspec.Meta(ge=0, le=200)] | None = None
    hepatic: Impairment = Impairment.NONE
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""
    visit_id: uuid.UUID | None = None  # the patient's visit this statement is for (weights count per visit)

    def value(self) -> SafetyContext:
        return SafetyContext(allergy_status=self.allergy_status, allergies=tuple(self.allergies),
                             pregnancy=self.pregnancy, lactating=self.lactating, renal=self.renal, egfr=self.egfr,
                             hepatic=self.hepatic, weight_kg=self.weight_kg, height_cm=self.height_cm, note=self.note)


class ConfirmationBody(msgspec.Struct, forbid_unknown_fields=True):
    """The doctor confirms the current statement (`correction` absent) or records a corrected one."""

    correction: SafetyContextBody | None = None


class SafetyContextController(Controller):
    path = "/api"
    tags = ["prescriptions"]

    @get("/safety-context/vocabulary", guards=[requires_role(Role.PATIENT, Role.DOCTOR, Role.PHARMACIST)],
         summary="The allergy codes: the formulary's allergen groups and substances (RX-04)")
    async def vocabulary(self, ctx: HospitalContext) -> list[str]:
        return service.vocabulary(ctx)

    @get("/me/safety-context", guards=[requires_patient], summary="My current safety context (RX-04)")
    async def mine(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                   ctx: HospitalContext) -> SafetyContextView:
        return msgspec.convert(await service.read_own(db_session, ctx, actor_of(request), principal_of(request)),
                               SafetyContextView)

    @put("/me/safety-context", guards=[requires_patient], status_code=200,
         summary="State my allergies (or no known allergies), pregnancy, impairments, weight: a new version")
    async def record(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     data: SafetyContextBody) -> SafetyContextView:
        return msgspec.convert(await service.record_own(db_session, ctx, actor_of(request), principal_of(request),
                                                        data.value(), data.visit_id), SafetyContextView)

    @get("/visits/{visit_id:uuid}/safety-context", guards=[requires_role(Role.PATIENT, Role.DOCTOR)],
         summary="The visit's patient's current safety context (RX-04)")
    async def of_visit(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       visit_id: uuid.UUID) -> SafetyContextView:
        return msgspec.convert(await service.read_for_visit(db_session, ctx, actor_of(request), principal_of(request),
                                                            visit_id), SafetyContextView)

    @post("/visits/{visit_id:uuid}/safety-context", guards=[requires_doctor], status_code=200,
          summary="The visit's doctor confirms or corrects the patient's safety context: a new version (RX-04)")
    async def confirm(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                      visit_id: uuid.UUID, data: ConfirmationBody) -> SafetyContextView:
        correction = data.correction.value() if data.correction is not None else None
        return msgspec.convert(await service.confirm_in_visit(db_session, ctx, actor_of(request),
                                                              principal_of(request), visit_id, correction),
                               SafetyContextView)
