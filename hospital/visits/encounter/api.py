"""HTTP for a visit, `/api/visits`: booking it and withdrawing it (the booking sub-area's use cases), its
lifecycle, chat and medical record. Every answer is the whole visit as the encounter sees it (with its record's
state), which is why the visit resource lives here, above booking, and not in `booking.api`.

Only a visit's patient and its doctor reach it; any other id is 404 (SEC-01). Thin: parse, one service call,
a plain view out.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.visit_views import ChatMessageView, MedicalRecordView, ScheduleWithdrawn, VisitView
from hospital.core.errors import NotFound
from hospital.core.problems import refuses
from hospital.identity.guards import principal_of, requires_doctor, requires_patient, requires_role
from hospital.identity.models import Role
from hospital.signing.api import DeviceSignatureBody, device_signature
from hospital.visits.booking import service as booking
from hospital.visits.booking import views
from hospital.visits.encounter import views as encounter_views
from hospital.visits.encounter.payloads import current_revisit_record
from hospital.visits.encounter.rules import Referral
from hospital.visits.encounter.service import chat, lifecycle, medical_record
from hospital.web.http import actor_of, document_response

__all__ = ["ScheduleWithdrawalController", "VisitController"]

Text = Annotated[str, msgspec.Meta(max_length=4000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]


class GuardianBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    id_number: Annotated[str, msgspec.Meta(min_length=15, max_length=18)]
    relationship: Short
    present_confirmed: bool
    mobile: Annotated[str, msgspec.Meta(max_length=20)] = ""


class BookingBody(msgspec.Struct, forbid_unknown_fields=True):
    schedule_id: uuid.UUID
    mode: Annotated[str, msgspec.Meta(max_length=10)]
    prior_diagnosis_id: uuid.UUID | None = None
    guardian: GuardianBody | None = None
    fee_cny: Annotated[str, msgspec.Meta(max_length=12)] = ""  # the fee shown, which must be the published one
    fee_accepted: bool = False  # INS-03: the patient accepted that fee


class CancelBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class AcceptBody(msgspec.Struct, forbid_unknown_fields=True):
    revisit_confirmed: bool  # the doctor saw the records and confirms this is a revisit (REV-04)
    name_resolution: Annotated[str, msgspec.Meta(max_length=500)] | None = None  # REV-02 name finding resolved


class StartBody(msgspec.Struct, forbid_unknown_fields=True):
    guardian_present_confirmed: bool = False  # REV-05: a child under 6's guardian is present, seen by the doctor


class ReferralBody(msgspec.Struct, forbid_unknown_fields=True):
    institution: Short
    advice: Text
    department: Short = ""
    urgent: bool = False


class TerminationBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=40)]
    referral: ReferralBody | None = None
    suspected_icd10: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class WithdrawalBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=200)]


class MessageBody(msgspec.Struct, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=chat.MAX_MESSAGE_CHARS)]


class SignOffBody(msgspec.Struct, forbid_unknown_fields=True):
    signature: DeviceSignatureBody | None = None  # the doctor's device signs the record (RX-05)


class EmrBody(msgspec.Struct, forbid_unknown_fields=True):
    chief_complaint: Text
    present_illness: Text
    allergy_history: Text
    diagnosis_icd10: Annotated[str, msgspec.Meta(max_length=16)]
    diagnosis_name: Short
    treatment_advice: Text
    past_history: Text = ""
    examination_findings: Text = ""


class VisitController(Controller):
    path = "/api/visits"
    tags = ["visits"]
    guards = [requires_role(Role.PATIENT, Role.DOCTOR)]

    @refuses(NotFound)  # the schedule or prior diagnosis named in the body
    @post("/", guards=[requires_patient], summary="Book a place: schedule, prior diagnosis, mode, guardian (REV-06)")
    async def book(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                   data: BookingBody) -> VisitView:
        guardian = booking.GuardianInput(**msgspec.structs.asdict(data.guardian)) if data.guardian else None
        principal = principal_of(request)
        visit = await booking.book_visit(db_session, ctx, actor_of(request), principal.user_id, booking.BookingInput(
            data.schedule_id, data.prior_diagnosis_id, data.mode, guardian, data.fee_cny, data.fee_accepted))
        return msgspec.convert(await encounter_views.visit_detail(db_session, ctx, principal, visit.id), VisitView)

    @get("/", summary="The caller's visits: a patient's own, or those assigned to a doctor")
    async def mine(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                   ctx: HospitalContext) -> list[VisitView]:
        return msgspec.convert(await views.my_visits(db_session, ctx, principal_of(request), actor_of(request)),
                               list[VisitView])

    @get("/{visit_id:uuid}", summary="One visit of the caller's (404 for any other)")
    async def one(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                  visit_id: uuid.UUID) -> VisitView:
        return msgspec.convert(await encounter_views.visit_detail(db_session, ctx, principal_of(request), visit_id,
                                                                  read_by=actor_of(request)), VisitView)

    @post("/{visit_id:uuid}/cancel", guards=[requires_patient], status_code=200, summary="Withdraw before it starts")
    async def cancel(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     visit_id: uuid.UUID, data: CancelBody | None = None) -> VisitView:
        principal = principal_of(request)
        await booking.cancel_visit(db_session, ctx, actor_of(request), principal.user_id, visit_id,
                                   data.reason if data else "", revisit_record_of=current_revisit_record)
        return msgspec.convert(await encounter_views.visit_detail(db_session, ctx, principal, visit_id), VisitView)

    @post("/{visit_id:uuid}/accept", guards=[requires_doctor], status_code=200,
          summary="接诊: confirm the revisit after seeing the records; needs a practice session (FACE-02, REV-04)")
    async def accept(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     visit_id: uuid.UUID, data: AcceptBody) -> VisitView:
        principal = principal_of(request)
        await lifecycle.accept_visit(db_session, ctx, actor_of(request), principal, visit_id, data.revisit_confirmed,
                                     data.name_resolution)
        return msgspec.convert(await encounter_views.visit_detail(db_session, ctx, principal, visit_id), VisitView)

    @post("/{visit_id:uuid}/start", guards=[requires_doctor], status_code=200, summary="Begin the consultation")
    async def start(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                    visit_id: uuid.UUID, data: StartBody | None = None) -> VisitView:
        principal = principal_of(request)
        await lifecycle.start_visit(db_session, ctx, actor_of(request), principal, visit_id,
                                    data.guardian_present_confirmed if data else False)
        return msgspec.convert(await encounter_views.visit_detail(db_session, ctx, principal, visit_id), VisitView)

    @post("/{visit_id:uuid}/complete", guards=[requires_doctor], status_code=200,
          summary="End the consultation; the EMR must be signed off (REC-01)")
    async def complete(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       visit_id: uuid.UUID) -> VisitView:
        principal = principal_of(request)
        await lifecycle.complete_visit(db_session, ctx, actor_of(request), principal.user_id, visit_id)
        return msgspec.convert(await encounter_views.visit_detail(db_session, ctx, principal, visit_id), VisitView)

    @post("/{visit_id:uuid}/terminate", guards=[requires_doctor], status_code=200,
          summary="End the online visit and refer the patient offline (REV-04)")
    async def terminate(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                        visit_id: uuid.UUID, data: TerminationBody) -> VisitView:
        principal = principal_of(request)
        referral = Referral(**msgspec.structs.asdict(data.referral)) if data.referral else None
        await lifecycle.terminate_visit(db_session, ctx, actor_of(request), principal.user_id, visit_id,
                                        lifecycle.Termination(data.reason, referral, data.suspected_icd10, data.note))
        return msgspec.convert(await encounter_views.visit_detail(db_session, ctx, principal, visit_id), VisitView)

    @get("/{visit_id:uuid}/prior-diagnosis/document", summary="The document the visit was booked against",
         media_type="application/octet-stream")
    async def prior_document(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                             visit_id: uuid.UUID) -> Response[bytes]:
        data, content_type = await encounter_views.visit_prior_document(db_session, ctx, actor_of(request),
                                                                        principal_of(request), visit_id)
        return document_response(data, content_type, f"visit-{visit_id}-prior-diagnosis")

    @post("/{visit_id:uuid}/messages", summary="A text message within an accepted or running visit")
    async def post_message(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                           visit_id: uuid.UUID, data: MessageBody) -> ChatMessageView:
        return msgspec.convert(await chat.post_message(db_session, ctx, actor_of(request), principal_of(request),
                                                            visit_id, data.body), ChatMessageView)

    @get("/{visit_id:uuid}/messages", summary="The visit's messages, in the order sent")
    async def messages(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       visit_id: uuid.UUID) -> list[ChatMessageView]:
        principal = principal_of(request)
        return msgspec.convert(await chat.list_messages(db_session, ctx, principal.user_id, principal.role,
                                                             visit_id, read_by=actor_of(request)),
                               list[ChatMessageView])

    @put("/{visit_id:uuid}/medical-record", guards=[requires_doctor], summary="Write the outpatient EMR (REC-01)")
    async def write_record(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                           visit_id: uuid.UUID, data: EmrBody) -> MedicalRecordView:
        principal = principal_of(request)
        await medical_record.write_medical_record(db_session, ctx, actor_of(request), principal.user_id, visit_id,
                                             medical_record.EmrInput(**msgspec.structs.asdict(data)))
        return msgspec.convert(await medical_record.read_medical_record(db_session, ctx, principal.user_id, principal.role,
                                                                   visit_id), MedicalRecordView)

    @post("/{visit_id:uuid}/medical-record/sign-off", guards=[requires_doctor], status_code=200,
          summary="Sign the EMR off on the doctor's device (RX-05: 428 with the payload, then the JWS); needs a "
                  "fresh face verification (FACE-03)")
    async def sign_off(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       visit_id: uuid.UUID, data: SignOffBody | None = None) -> MedicalRecordView:
        principal = principal_of(request)
        await medical_record.sign_off_medical_record(db_session, ctx, actor_of(request), principal, visit_id,
                                                device_signature(data.signature if data else None))
        return msgspec.convert(await medical_record.read_medical_record(db_session, ctx, principal.user_id, principal.role,
                                                                   visit_id), MedicalRecordView)

    @get("/{visit_id:uuid}/medical-record", summary="The EMR: the doctor's draft or signed record; the patient's signed one")
    async def read_record(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                          visit_id: uuid.UUID) -> MedicalRecordView:
        principal = principal_of(request)
        return msgspec.convert(await medical_record.read_medical_record(db_session, ctx, principal.user_id, principal.role,
                                                                   visit_id, read_by=actor_of(request)),
                               MedicalRecordView)


class ScheduleWithdrawalController(Controller):
    """停诊 (REV-06): here, beside the visits, because withdrawing cancels and reports the visits booked in it."""

    path = "/api/schedules"
    tags = ["visits"]
    guards = [requires_role(Role.DOCTOR, Role.ADMIN)]

    @post("/{schedule_id:uuid}/withdrawal", status_code=200,
          summary="停诊: withdraw a schedule with a reason; its booked patients are notified and cancelled (REV-06)")
    async def withdraw(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       schedule_id: uuid.UUID, data: WithdrawalBody) -> ScheduleWithdrawn:
        principal = principal_of(request)
        schedule, cancelled = await booking.withdraw_schedule(
            db_session, ctx, actor_of(request), schedule_id, data.reason,
            doctor_user_id=principal.user_id if principal.role == Role.DOCTOR else None,
            revisit_record_of=current_revisit_record)
        return ScheduleWithdrawn(schedule_id=str(schedule.id), withdrawn=True, reason=schedule.withdrawn_reason,
                                 withdrawn_at=schedule.withdrawn_at.isoformat() if schedule.withdrawn_at else None,
                                 cancelled_visits=[str(v.id) for v in cancelled])
