"""Writing over HTTP: write and sign, revise, read (scoped to the caller) and export prescriptions."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.prescription_views import (
    Countersignature,
    CountersignatureAwaited,
    DraftCheck,
    ExportBundle,
    PrescriptionView,
)
from hospital.identity.guards import principal_of, requires_doctor, requires_role
from hospital.identity.models import Role
from hospital.prescriptions import queries
from hospital.prescriptions.writing import service
from hospital.prescriptions.writing.documents import DiagnosisInput, DraftInput, ItemInput
from hospital.signing.api import DeviceSignatureBody, device_signature
from hospital.web.http import actor_of

__all__ = ["PrescriptionController"]

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
    # 用法, route first ("口服，早餐后"); an empty one is refused by the RX-03 rule naming it, not by the schema,
    # so that the refusal names the requirement (dosage.every_item_states_its_usage)
    usage: Annotated[str, msgspec.Meta(max_length=200)] = ""
    frequency: Annotated[str, msgspec.Meta(max_length=8)] | None = None  # qd bid tid qid qn qw biw q3d prn
    # writing.values.ExtraQuantityReason: the one pack over dose × days, for the pharmacist (RX-03)
    extra_quantity_code: Annotated[str, msgspec.Meta(max_length=32)] | None = None


Sha256 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


class DraftBody(msgspec.Struct, forbid_unknown_fields=True):
    """The doctor's form, for the dry run. There is no `origin` and no `signature_confirmed`: the server records
    who wrote it (RX-07)."""

    diagnoses: Annotated[list[DiagnosisBody], msgspec.Meta(min_length=1, max_length=5)]
    items: Annotated[list[ItemBody], msgspec.Meta(min_length=1, max_length=10)]
    validity_days: Annotated[int, msgspec.Meta(ge=0, le=30)] = 1
    long_prescription_reason: Text | None = None
    long_prescription_code: Annotated[str, msgspec.Meta(max_length=32)] | None = None  # LongPrescriptionReason

    def draft(self) -> DraftInput:
        return DraftInput(
            diagnoses=tuple(DiagnosisInput(d.icd10, d.name) for d in self.diagnoses),
            items=tuple(ItemInput(**msgspec.structs.asdict(i)) for i in self.items),
            validity_days=self.validity_days, long_prescription_reason=self.long_prescription_reason,
            long_prescription_code=self.long_prescription_code)


class CountersignBody(msgspec.Struct, forbid_unknown_fields=True):
    signature: DeviceSignatureBody | None = None  # the countersigning doctor's device signs (RX-05)


class PrescriptionBody(DraftBody, forbid_unknown_fields=True):
    """The same form to sign: `draft_sha256` is what the dry run returned for exactly this draft (RX-07); the
    `signature` names the doctor's device (RX-05: the device signs, see DeviceSignatureBody)."""

    draft_sha256: Sha256 = ""
    signature: DeviceSignatureBody | None = None


requires_reader = requires_role(Role.PATIENT, Role.DOCTOR, Role.PHARMACIST)


class PrescriptionController(Controller):
    path = "/api"
    tags = ["prescriptions"]

    @post("/visits/{visit_id:uuid}/prescriptions/check", guards=[requires_doctor], status_code=200,
          summary="Dry run: every prescription rule on the draft, nothing signed (RX-07)",
          description="Returns the findings and the draft's canonical `draft_sha256`; signing must name that hash "
                      "and send the same draft, within 30 minutes, once.")
    async def check(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                    visit_id: uuid.UUID, data: DraftBody) -> DraftCheck:
        return msgspec.convert(await service.check_draft(db_session, ctx, actor_of(request), principal_of(request),
                                                         visit_id, data.draft()), DraftCheck)

    @post("/prescriptions/{prescription_id:uuid}/revisions/check", guards=[requires_doctor], status_code=200,
          summary="Dry run of a revision of a rejected prescription (RX-07)")
    async def check_revision(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                             prescription_id: uuid.UUID, data: DraftBody) -> DraftCheck:
        return msgspec.convert(await service.check_draft(db_session, ctx, actor_of(request), principal_of(request),
                                                         None, data.draft(), revision_of=prescription_id), DraftCheck)

    @post("/visits/{visit_id:uuid}/prescriptions", guards=[requires_doctor], status_code=201,
          summary="Write and sign a prescription in the doctor's visit (RX-01…RX-05, RX-07, FACE-03)",
          description="Needs a face verification younger than 5 minutes and the `draft_sha256` of a dry run of "
                      "this very draft (else 422 RX-07). A blocking rule finding refuses with 422 naming the rule "
                      "(`rule_id`, `rule_ids`, `findings`); warnings go to the pharmacist. RX-05: the first "
                      "request names `signature.device_id` and is answered 428 with the payload to sign; the "
                      "second sends the same body with `signature.signing_request` and the device's `jws`.")
    async def write(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                    visit_id: uuid.UUID, data: PrescriptionBody) -> PrescriptionView:
        principal = principal_of(request)
        rx = await service.submit_prescription(db_session, ctx, actor_of(request), principal, visit_id, data.draft(),
                                               data.draft_sha256, device_signature(data.signature))
        return await queries.get_prescription(db_session, ctx, principal, rx.id, actor=actor_of(request))

    @post("/prescriptions/{prescription_id:uuid}/revisions", guards=[requires_doctor], status_code=201,
          summary="Revise a rejected prescription: a new signed version; the old one is kept (RX-06)")
    async def revise(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     prescription_id: uuid.UUID, data: PrescriptionBody) -> PrescriptionView:
        principal = principal_of(request)
        rx = await service.revise_prescription(db_session, ctx, actor_of(request), principal, prescription_id,
                                               data.draft(), data.draft_sha256, device_signature(data.signature))
        return await queries.get_prescription(db_session, ctx, principal, rx.id, actor=actor_of(request))

    @get("/prescriptions/awaiting-countersignature", guards=[requires_doctor],
         summary="Children's prescriptions waiting for a paediatric doctor's countersignature (REV-05, PD 17)")
    async def awaiting_countersignature(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                                        ctx: HospitalContext) -> list[CountersignatureAwaited]:
        return msgspec.convert(await service.awaiting_countersignature(db_session, ctx, actor_of(request),
                                                                       principal_of(request)),
                               list[CountersignatureAwaited])

    @post("/prescriptions/{prescription_id:uuid}/countersignature", guards=[requires_doctor], status_code=200,
          summary="A paediatric doctor countersigns a child's prescription (REV-05, PD 17, FACE-03)",
          description="A prescription for a child under 6 by a doctor whose 执业范围 does not cover paediatrics "
                      "awaits this signature (`awaiting_countersign`) before a pharmacist sees it. Needs a face "
                      "verification younger than the signing window.")
    async def countersign(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                          prescription_id: uuid.UUID, data: CountersignBody) -> Countersignature:
        return msgspec.convert(await service.countersign_prescription(
            db_session, ctx, actor_of(request), principal_of(request), prescription_id,
            device_signature(data.signature)), Countersignature)

    @get("/visits/{visit_id:uuid}/prescriptions", guards=[requires_reader], summary="The visit's prescriptions")
    async def of_visit(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       visit_id: uuid.UUID) -> list[PrescriptionView]:
        return await queries.list_prescriptions(db_session, ctx, principal_of(request), visit_id,
                                                 actor=actor_of(request))

    @get("/prescriptions", guards=[requires_reader],
         summary="The caller's prescriptions with review state and delivery tracking")
    async def mine(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                   ctx: HospitalContext) -> list[PrescriptionView]:
        return await queries.list_prescriptions(db_session, ctx, principal_of(request), actor=actor_of(request))

    @get("/prescriptions/{prescription_id:uuid}", guards=[requires_reader], summary="One prescription")
    async def one(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                  prescription_id: uuid.UUID) -> PrescriptionView:
        return await queries.get_prescription(db_session, ctx, principal_of(request), prescription_id,
                                               actor=actor_of(request))

    @get("/prescriptions/{prescription_id:uuid}/export", guards=[requires_reader],
         summary="The signed export bundle, verifiable offline with `hospital rx verify` or POST /api/rx/verify")
    async def export(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     prescription_id: uuid.UUID) -> Response[ExportBundle]:
        bundle = msgspec.convert(await service.export_prescription(db_session, ctx, actor_of(request),
                                                                   principal_of(request), prescription_id),
                                 ExportBundle)
        name = bundle.prescription.get("prescription_number", "prescription")
        return Response(bundle, headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
