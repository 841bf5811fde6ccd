"""Prescriptions over HTTP: writing and signing, the review queue, dispensing and delivery, export, formulary."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.web import PUBLIC, actor_of
from hospital.identity.guards import principal_of, requires_doctor, requires_pharmacist, requires_role
from hospital.identity.models import Role
from hospital.prescriptions import queries
from hospital.prescriptions.dispensing import queries as dispensing_queries
from hospital.prescriptions.dispensing import service as dispensing_service
from hospital.prescriptions.formulary.queries import formulary_of
from hospital.prescriptions.formulary.values import AntimicrobialGrade, Drug
from hospital.prescriptions.review import queries as review_queries
from hospital.prescriptions.review import service as review_service
from hospital.prescriptions.writing import service
from hospital.prescriptions.writing.documents import DiagnosisInput, DraftInput, ItemInput

__all__ = ["FormularyController", "PrescriptionController"]

Text = Annotated[str, msgspec.Meta(max_length=500)]


class DiagnosisBody(msgspec.Struct, forbid_unknown_fields=True):
    icd10: Annotated[str, msgspec.Meta(min_length=3, max_length=16)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class ItemBody(msgspec.Struct, forbid_unknown_fields=True):
    drug_code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    dose_per_time: Decimal
    times_per_day: Annotated[int, msgspec.Meta(ge=1, le=24)]
    days_supply: Annotated[int, msgspec.Meta(ge=1, le=366)]
    quantity_packs: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    interval_days: Annotated[int, msgspec.Meta(ge=1, le=31)] = 1
    dose_unit: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    usage: Annotated[str, msgspec.Meta(max_length=200)] = ""


class PrescriptionBody(msgspec.Struct, forbid_unknown_fields=True):
    """The doctor's form; `signature_confirmed: true` is the doctor's explicit act of signing (RX-07)."""

    diagnoses: Annotated[list[DiagnosisBody], msgspec.Meta(min_length=1, max_length=5)]
    items: Annotated[list[ItemBody], msgspec.Meta(min_length=1, max_length=10)]
    signature_confirmed: bool
    validity_days: Annotated[int, msgspec.Meta(ge=0, le=30)] = 1
    long_prescription_reason: Text | None = None
    origin: Annotated[str, msgspec.Meta(max_length=16)] = "clinician"

    def draft(self) -> DraftInput:
        return DraftInput(
            diagnoses=tuple(DiagnosisInput(d.icd10, d.name) for d in self.diagnoses),
            items=tuple(ItemInput(**msgspec.structs.asdict(i)) for i in self.items),
            validity_days=self.validity_days, long_prescription_reason=self.long_prescription_reason,
            origin=self.origin, signature_confirmed=self.signature_confirmed)


class ReviewBody(msgspec.Struct, forbid_unknown_fields=True):
    decision: str  # approve | reject
    reasons: Annotated[list[Text], msgspec.Meta(max_length=20)] = []
    version: int | None = None  # the version the pharmacist saw; a later change is 409


class DispensingBody(msgspec.Struct, forbid_unknown_fields=True):
    courier_kind: str  # own | third_party
    courier_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class DeliveryBody(msgspec.Struct, forbid_unknown_fields=True):
    status: str  # shipped | delivered
    tracking_number: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    courier_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    note: Text = ""


requires_reader = requires_role(Role.PATIENT, Role.DOCTOR, Role.PHARMACIST)


class PrescriptionController(Controller):
    path = "/api"
    tags = ["prescriptions"]

    @post("/visits/{visit_id:uuid}/prescriptions", guards=[requires_doctor], status_code=201,
          summary="Write and sign a prescription in the doctor's visit (RX-01…RX-05, RX-07, FACE-03)",
          description="Needs a face verification younger than 5 minutes. A blocking rule finding refuses with 422 "
                      "naming the rule (`rule_id`, `rule_ids`, `findings`); warnings go to the pharmacist.")
    async def write(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                    visit_id: uuid.UUID, data: PrescriptionBody) -> dict[str, Any]:
        principal = principal_of(request)
        rx = await service.submit_prescription(db_session, ctx, actor_of(request), principal, visit_id, data.draft())
        return await queries.get_prescription(db_session, ctx, principal, rx.id)

    @post("/prescriptions/{prescription_id:uuid}/revisions", guards=[requires_doctor], status_code=201,
          summary="Revise a rejected prescription: a new signed version; the old one is kept (RX-06)")
    async def revise(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     prescription_id: uuid.UUID, data: PrescriptionBody) -> dict[str, Any]:
        principal = principal_of(request)
        rx = await service.revise_prescription(db_session, ctx, actor_of(request), principal, prescription_id,
                                               data.draft())
        return await queries.get_prescription(db_session, ctx, principal, rx.id)

    @get("/visits/{visit_id:uuid}/prescriptions", guards=[requires_reader], summary="The visit's prescriptions")
    async def of_visit(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       visit_id: uuid.UUID) -> list[dict[str, Any]]:
        return await queries.list_prescriptions(db_session, ctx, principal_of(request), visit_id)

    @get("/prescriptions", guards=[requires_reader],
         summary="The caller's prescriptions with review state and delivery tracking")
    async def mine(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                   ctx: HospitalContext) -> list[dict[str, Any]]:
        return await queries.list_prescriptions(db_session, ctx, principal_of(request))

    @get("/prescriptions/{prescription_id:uuid}", guards=[requires_reader], summary="One prescription")
    async def one(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                  prescription_id: uuid.UUID) -> dict[str, Any]:
        return await queries.get_prescription(db_session, ctx, principal_of(request), prescription_id)

    @get("/reviews/queue", guards=[requires_pharmacist],
         summary="Prescriptions pending review, oldest first, with their rule findings (RX-06)")
    async def review_queue(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                           ctx: HospitalContext) -> list[dict[str, Any]]:
        return await review_queries.review_queue(db_session, ctx, principal_of(request))

    @post("/prescriptions/{prescription_id:uuid}/review", guards=[requires_pharmacist], status_code=200,
          summary="Approve, or reject with reasons; signed by the pharmacist (RX-06, FACE-02)")
    async def review(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     prescription_id: uuid.UUID, data: ReviewBody) -> dict[str, Any]:
        principal = principal_of(request)
        await review_service.review_prescription(db_session, ctx, actor_of(request), principal, prescription_id,
                                                 data.decision, data.reasons, data.version)
        return await queries.get_prescription(db_session, ctx, principal, prescription_id)

    @get("/dispensing/queue", guards=[requires_pharmacist], summary="Approved prescriptions not yet dispensed")
    async def dispensing_queue(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                               ctx: HospitalContext) -> list[dict[str, Any]]:
        return await dispensing_queries.dispensing_queue(db_session, ctx, principal_of(request))

    @post("/prescriptions/{prescription_id:uuid}/dispensing", guards=[requires_pharmacist], status_code=201,
          summary="Dispense an approved prescription, once (RX-06, RX-08)")
    async def dispense(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       prescription_id: uuid.UUID, data: DispensingBody) -> dict[str, Any]:
        dispensing = await dispensing_service.dispense(db_session, ctx, actor_of(request), principal_of(request),
                                                       prescription_id, data.courier_kind, data.courier_name)
        return queries.dispensing_view(dispensing)

    @post("/dispensings/{dispensing_id:uuid}/delivery", guards=[requires_pharmacist], status_code=200,
          summary="Record shipping (courier, tracking number) or delivery (RX-08)")
    async def delivery(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       dispensing_id: uuid.UUID, data: DeliveryBody) -> dict[str, Any]:
        dispensing = await dispensing_service.update_delivery(
            db_session, ctx, actor_of(request), principal_of(request), dispensing_id, data.status,
            tracking_number=data.tracking_number, courier_name=data.courier_name, note=data.note)
        return queries.dispensing_view(dispensing)

    @get("/prescriptions/{prescription_id:uuid}/export", guards=[requires_reader],
         summary="The signed export bundle, verifiable offline with `hospital rx verify` or POST /api/rx/verify")
    async def export(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     prescription_id: uuid.UUID) -> Response[dict[str, Any]]:
        bundle = await service.export_prescription(db_session, ctx, actor_of(request), principal_of(request),
                                                   prescription_id)
        name = bundle["prescription"].get("prescription_number", "prescription")
        return Response(bundle, headers={"Content-Disposition": f'attachment; filename="{name}.json"'})


def drug_view(drug: Drug) -> dict[str, Any]:
    online = not drug.is_controlled and drug.antimicrobial_grade is not AntimicrobialGrade.SPECIAL
    return {"code": drug.code, "name_zh": drug.name_zh, "generic_name": drug.generic_name, "atc_code": drug.atc_code,
            "form": drug.form, "strength": f"{drug.strength} {drug.strength_unit}", "dose_unit": drug.dose_unit,
            "max_daily_dose": str(drug.max_daily_dose) if drug.max_daily_dose is not None else None,
            "pack": f"{drug.pack_size} {drug.dispensing_unit}", "price_cny": f"{drug.price_cny:.2f}",
            "controlled_class": drug.controlled_class, "antimicrobial_grade": drug.antimicrobial_grade,
            "chronic": drug.chronic, "prescribable_online": online}


class FormularyController(Controller):
    path = "/api/formulary"
    tags = ["prescriptions"]
    opt = PUBLIC

    @get("/", summary="The formulary with prices (the doctor's form; the public disclosure of drug prices, INS-03)")
    async def formulary(self, ctx: HospitalContext) -> list[dict[str, Any]]:
        return [drug_view(d) for d in formulary_of(ctx)]
