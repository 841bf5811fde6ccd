"""Booking's use cases, each one transaction (REV-06): a doctor publishes a schedule in a department; a patient
with consent and an eligible prior diagnosis books a place; a patient cancels before the visit starts. And
`move_visit`, the one way a visit changes state, which the encounter's use cases share.

The schedule row is locked while a place is taken or given back (`SELECT … FOR UPDATE` on PostgreSQL; SQLite
transactions are IMMEDIATE), so two patients never take the last place together.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from hospital.context import HospitalContext
from hospital.contracts.visits import SchedulePublished, ScheduleWithdrawn
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hospital.core.events import publish
from hospital.core.messages import say
from hospital.core.outbox import emit
from hospital.institution.reference import consultation_fees, load_disclosure_settings
from hospital.institution.rules import check_department_approved
from hospital.institution.service import approved_department_codes, require_licence_in_force
from hospital.patients.rules import check_phone
from hospital.staff.service import require_can_practise
from hospital.visits.booking import queries
from hospital.visits.booking.events import VisitEnded
from hospital.visits.booking.models import Schedule, Visit, seal_visit_clinical, seal_visit_guardian
from hospital.visits.booking.payloads import RevisitRecordOf, revisit_record
from hospital.visits.booking.rules import Slot, VisitAction, VisitState, check_booking, check_fee, next_state
from hospital.visits.intake import queries as intake_queries
from hospital.visits.intake.models import PriorDiagnosisOnFile, open_prior
from hospital.visits.intake.reference import tables_for
from hospital.visits.intake.rules import IntakeRequest, check_intake
from hospital.visits.intake.rules.eligibility import ConsentAcceptance, Guardian, InfectiousFlag
from hospital.visits.intake.rules.evidence import check_prior_diagnosis_withdrawable
from hospital.visits.intake.service import prior_as_rule_value, require_current_consent

__all__ = [
    "DEFAULT_MODES",
    "MAX_CAPACITY",
    "MODES",
    "BookingInput",
    "GuardianInput",
    "ScheduleInput",
    "book_visit",
    "cancel_visit",
    "move_visit",
    "publish_schedule",
    "published_fees",
    "withdraw_prior_diagnosis",
    "withdraw_schedule",
]

MODES = ("video", "audio", "text")  # audio: 语音复诊, a call without pictures (hospital/video)
DEFAULT_MODES = ("video", "text")  # what a schedule offers unless it names its modes
MAX_CAPACITY = 200
MAX_SCHEDULE_HOURS = 12
# The audit action of each move: visit.accepted, visit.started, …
_DONE = {VisitAction.ACCEPT: "accepted", VisitAction.START: "started", VisitAction.COMPLETE: "completed",
         VisitAction.TERMINATE: "terminated", VisitAction.CANCEL: "cancelled"}


@dataclass(frozen=True, slots=True)
class ScheduleInput:
    department_code: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    modes: list[str] = field(default_factory=lambda: list(DEFAULT_MODES))


@dataclass(frozen=True, slots=True)
class GuardianInput:
    name: str
    id_number: str
    relationship: str
    present_confirmed: bool
    mobile: str = ""


@dataclass(frozen=True, slots=True)
class BookingInput:
    schedule_id: uuid.UUID
    prior_diagnosis_id: uuid.UUID | None
    mode: str
    guardian: GuardianInput | None = None
    fee_cny: str = ""  # the fee the page showed the patient for this mode (INS-03)
    fee_accepted: bool = False  # the patient accepted it; payment itself is a seam (docs/patient-journey.md)


def published_fees(ctx: HospitalContext) -> dict[str, str]:
    """The fee of each consultation mode as the disclosure publishes it (INS-03): the one source of visit prices."""
    return consultation_fees(load_disclosure_settings(ctx.settings.data_dir, fallback=not ctx.settings.is_production))


def _checked_schedule(data: ScheduleInput, now: datetime, fees: dict[str, str]) -> list[str]:
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise InvalidInput("starts_at and ends_at must carry a time zone")
    if not data.starts_at < data.ends_at <= data.starts_at + timedelta(hours=MAX_SCHEDULE_HOURS):
        raise InvalidInput(f"a schedule ends after it starts, within {MAX_SCHEDULE_HOURS} hours")
    if data.starts_at <= now:
        raise RuleViolation("REV-06", "a schedule is published before it starts")
    if not 1 <= data.capacity <= MAX_CAPACITY:
        raise InvalidInput(f"capacity must be between 1 and {MAX_CAPACITY}")
    modes = sorted(set(data.modes))
    if not modes or any(m not in MODES for m in modes):
        raise InvalidInput(f"modes must be a non-empty selection of {list(MODES)}")
    unpriced = [m for m in modes if m not in fees]
    if unpriced:  # a mode the fee table does not price could never be booked (INS-03)
        raise RuleViolation("INS-03", f"the disclosure publishes no fee for {', '.join(unpriced)} visits")
    return modes


async def publish_schedule(session: AsyncSession, ctx: HospitalContext, actor: Actor, doctor_user_id: uuid.UUID,
                           data: ScheduleInput) -> Schedule:
    """A doctor publishes a consultation period in one of their departments, approved on the licence."""
    await require_licence_in_force(session, ctx)
    await require_can_practise(session, ctx, doctor_user_id, data.department_code)
    check_department_approved(data.department_code, await approved_department_codes(session))
    modes = _checked_schedule(data, ctx.now(), published_fees(ctx))
    overlap = select(Schedule.id).where(Schedule.doctor_user_id == doctor_user_id, Schedule.cancelled == False,  # noqa: E712
                                        col(Schedule.starts_at) < data.ends_at, col(Schedule.ends_at) > data.starts_at)
    if (await session.execute(overlap)).first():
        raise Conflict("this schedule overlaps another of yours", rule_id="REV-06")
    schedule = Schedule(doctor_user_id=doctor_user_id, department_code=data.department_code, starts_at=data.starts_at,
                        ends_at=data.ends_at, capacity=data.capacity, modes=modes)
    session.add(schedule)
    await session.flush()
    await append_audit(session, actor, "schedule.published", subject_type="schedule", subject_id=schedule.id,
                       rule_id="REV-06", detail={"department_code": data.department_code, "capacity": data.capacity,
                                                 "starts_at": data.starts_at, "ends_at": data.ends_at, "modes": modes})
    await emit(session, "schedule.published", subject_type="schedule", subject_id=schedule.id,  # openDoctorBusiness
               payload=SchedulePublished(schedule_id=str(schedule.id), doctor_user_id=str(doctor_user_id),
                                         department_code=data.department_code, starts_at=data.starts_at,
                                         ends_at=data.ends_at, capacity=data.capacity, modes=list(modes),
                                         published_at=ctx.now()))
    await session.commit()
    return schedule


async def _locked_schedule(session: AsyncSession, schedule_id: uuid.UUID) -> Schedule:
    query = (select(Schedule).where(Schedule.id == schedule_id).with_for_update()
             .execution_options(populate_existing=True))
    schedule = (await session.execute(query)).scalar_one_or_none()
    if schedule is None:
        raise NotFound("no such schedule")
    return schedule


def _guardian(data: GuardianInput | None) -> Guardian | None:
    if data is None:
        return None
    if data.mobile:
        check_phone(data.mobile)
    return Guardian(data.name.strip(), data.id_number.strip().upper(), data.relationship, data.present_confirmed)


def _infectious(flag: InfectiousFlag | None) -> dict[str, object] | None:
    if flag is None:
        return None
    return {"source": "prior_diagnosis", "icd10_code": flag.icd10.code, "disease_zh": flag.disease_zh,
            "disease_en": flag.disease_en, "statutory_class": flag.statutory_class.value,
            "report_within_hours": flag.report_within_hours}


async def book_visit(session: AsyncSession, ctx: HospitalContext, actor: Actor, patient_user_id: uuid.UUID,
                     data: BookingInput) -> Visit:
    """PAT-02, REV-06, INS-02, REV-01 … REV-05 in that order; the first refusal leaves nothing behind."""
    await require_licence_in_force(session, ctx)
    patient = await intake_queries.patient_of_user(session, patient_user_id)
    consent = await require_current_consent(session, ctx, patient)
    schedule = await _locked_schedule(session, data.schedule_id)
    if schedule.cancelled:
        raise RuleViolation("REV-06", say("booking.schedule_withdrawn"))
    if data.mode not in schedule.modes:
        raise RuleViolation("REV-06", say("booking.mode_not_offered", modes=", ".join(schedule.modes),
                                             mode=repr(data.mode)))
    fee = check_fee(data.mode, published=published_fees(ctx), shown_cny=data.fee_cny, accepted=data.fee_accepted)
    approved = await approved_department_codes(session)
    held = (await session.execute(select(func.count()).select_from(Visit).where(
        Visit.schedule_id == schedule.id, Visit.patient_id == patient.id, col(Visit.state).in_(queries.ACTIVE_STATES))
    )).scalar_one()
    now = ctx.now()
    check_booking(Slot(schedule.department_code, schedule.starts_at, schedule.ends_at, schedule.capacity, schedule.booked),
                  now=now, approved_department_codes=approved, patient_bookings_in_slot=held)
    prior = None
    if data.prior_diagnosis_id is not None:
        prior = await intake_queries.prior_diagnosis_of_patient(session, data.prior_diagnosis_id, patient.id,
                                                                for_update=True)
        if prior.withdrawn_at is not None:  # the patient took it back (REV-01)
            raise RuleViolation("REV-01", say("booking.diagnosis_withdrawn"))
    guardian = _guardian(data.guardian)
    decision = check_intake(
        IntakeRequest(birth_date=patient.birth_date, visit_date=ctx.local_date(schedule.starts_at),
                      prior=prior_as_rule_value(open_prior(ctx.cipher, prior)) if prior else None,
                      consent=ConsentAcceptance(consent.version, consent.accepted_at, consent.client_address),
                      guardian=guardian, department_code=schedule.department_code),
        tables=tables_for(ctx), approved_department_codes=approved, current_consent_version=consent.version)
    assert prior is not None  # check_intake refused a booking without one (REV-01)
    await require_can_practise(session, ctx, schedule.doctor_user_id, schedule.department_code)
    last = (await session.execute(select(func.max(Visit.queue_number)).where(Visit.schedule_id == schedule.id))).scalar()
    schedule.booked += 1
    schedule.version += 1
    schedule.touch()
    visit = Visit(
        schedule_id=schedule.id, patient_id=patient.id, patient_user_id=patient.user_id,
        doctor_user_id=schedule.doctor_user_id, department_code=schedule.department_code, mode=data.mode,
        prior_diagnosis_id=prior.id, queue_number=(last or 0) + 1, fee_cny=fee, fee_accepted_at=now,
        created_at=now, updated_at=now)
    seal_visit_clinical(ctx.cipher, visit, infectious_flag=_infectious(decision.infectious))  # REC-03
    if guardian is not None:
        assert data.guardian is not None
        seal_visit_guardian(ctx.cipher, visit, {**asdict(guardian), "mobile": data.guardian.mobile})
    session.add(visit)
    await session.flush()
    await append_audit(session, actor, "visit.booked", subject_type="visit", subject_id=visit.id, rule_id="REV-06",
                       detail={"schedule_id": schedule.id, "queue_number": visit.queue_number, "mode": data.mode,
                               "fee_cny": fee, "fee_accepted": True,
                               "prior_diagnosis_id": prior.id, "icd10_code": decision.icd10.code,
                               "findings": [f.message for f in decision.findings]}, cipher=ctx.cipher)
    await emit(session, "visit.booked", subject_type="visit", subject_id=visit.id, version=visit.version,
               payload=await revisit_record(session, ctx, visit, signed=None),  # just booked: no record yet
               cipher=ctx.cipher)
    await session.commit()
    return visit


async def withdraw_prior_diagnosis(session: AsyncSession, ctx: HospitalContext, actor: Actor,
                                   patient_user_id: uuid.UUID, prior_id: uuid.UUID) -> PriorDiagnosisOnFile:
    """The patient withdraws a prior diagnosis no visit was booked on (REV-01): it is kept (REC-02, its document
    too) but never offered or booked again. Here, not in intake, because whether a visit used it is booking's
    to know; the row lock is the one booking takes on it, so the two never pass each other."""
    patient = await intake_queries.patient_of_user(session, patient_user_id)
    prior = await intake_queries.prior_diagnosis_of_patient(session, prior_id, patient.id, for_update=True)
    used = (await session.execute(select(func.count()).select_from(Visit).where(
        Visit.prior_diagnosis_id == prior.id))).scalar_one()
    check_prior_diagnosis_withdrawable(visits_booked_on_it=used, withdrawn=prior.withdrawn_at is not None)
    prior.withdrawn_at = ctx.now()
    prior.touch()
    await session.flush()
    opened = open_prior(ctx.cipher, prior)
    await append_audit(session, actor, "prior_diagnosis.withdrawn", subject_type="prior_diagnosis", subject_id=prior.id,
                       rule_id="REV-01", detail={"icd10_code": opened.icd10_code}, cipher=ctx.cipher)
    await session.commit()
    return opened


async def cancel_visit(session: AsyncSession, ctx: HospitalContext, actor: Actor, patient_user_id: uuid.UUID,
                       visit_id: uuid.UUID, reason: str = "", *, revisit_record_of: RevisitRecordOf) -> Visit:
    """The patient withdraws a visit that has not started; its place returns to the schedule. Allowed even
    when the licence has lapsed: withdrawing is not being served (INS-01).

    An accepted visit may already have a signed record, which its revisit record reports; the encounter, above
    booking, reads it, so the caller passes its reader (`encounter.payloads.current_revisit_record`)."""
    visit = await queries.visit_of_patient(session, visit_id, patient_user_id, for_update=True)
    # Locks in one order everywhere (visit, schedule, then the audit chain's), so no two use cases deadlock.
    schedule = await _locked_schedule(session, visit.schedule_id)
    await move_visit(session, ctx, actor, visit, VisitAction.CANCEL, detail={"reason": reason}, rule_id="REV-06")
    visit.ended_at = ctx.now()
    schedule.booked = max(0, schedule.booked - 1)
    schedule.version += 1
    schedule.touch()
    withdrawn = await revisit_record_of(session, ctx, visit)
    # An answered visit's consult ends with it (uploadConsultIndicators, SUP-02); one never answered had none.
    for event_type in ("visit.cancelled", "visit.consult_ended")[:2 if visit.accepted_at else 1]:
        await emit(session, event_type, subject_type="visit", subject_id=visit.id, version=visit.version,
                   payload=withdrawn, cipher=ctx.cipher)
    await session.commit()
    return visit


WITHDRAWABLE_STATES = (VisitState.REQUESTED.value, VisitState.ACCEPTED.value)


def _withdrawal_notice(schedule: Schedule, reason: str, at: datetime, ctx: HospitalContext) -> dict[str, Any]:
    """What a patient is told when the schedule they booked is withdrawn (停诊通知, REV-06)."""
    day = ctx.local_date(schedule.starts_at).isoformat()
    starts = schedule.starts_at.astimezone(ctx.time_zone).strftime("%H:%M")
    return {"kind": "schedule_withdrawn", "rule_id": "REV-06", "reason": reason, "at": at.isoformat(),
            "schedule_id": str(schedule.id), "starts_at": schedule.starts_at.isoformat(),
            "zh": f"停诊通知：您预约的 {day} {starts} 门诊已停诊（{reason}），预约已取消，请重新预约。",
            "en": f"Schedule withdrawn: the consultation of {day} {starts} you booked is cancelled ({reason}); "
                  "please book again."}


async def withdraw_schedule(session: AsyncSession, ctx: HospitalContext, actor: Actor, schedule_id: uuid.UUID,
                            reason: str, *, doctor_user_id: uuid.UUID | None,
                            revisit_record_of: RevisitRecordOf) -> tuple[Schedule, list[Visit]]:
    """停诊 (REV-06): the doctor (their own schedule) or an administrator (`doctor_user_id` None) withdraws a
    schedule with a reason. Every visit booked in it and not yet started is cancelled, its patient notified
    (`visit.notice`, shown on their pages), each cancellation audited and reported (`visit.cancelled`). A
    schedule with a visit in progress is refused: that visit is finished or terminated first."""
    why = " ".join(reason.split())
    if not 2 <= len(why) <= 200:
        raise InvalidInput("a withdrawal (停诊) says why, in 2 to 200 characters", rule_id="REV-06")
    # Locks in one order everywhere: the visits, then the schedule (as cancel_visit).
    rows = (await session.execute(select(Visit).where(
        Visit.schedule_id == schedule_id, col(Visit.state).in_(queries.ACTIVE_STATES))
        .order_by(col(Visit.queue_number)).with_for_update().execution_options(populate_existing=True))).scalars().all()
    schedule = await _locked_schedule(session, schedule_id)
    if doctor_user_id is not None and schedule.doctor_user_id != doctor_user_id:
        raise NotFound("no such schedule")
    if schedule.cancelled:
        raise Conflict("this schedule has already been withdrawn", rule_id="REV-06")
    running = [v for v in rows if v.state == VisitState.IN_PROGRESS.value]
    if running:
        raise Conflict(f"{len(running)} visit(s) of this schedule are in progress: finish or terminate them first",
                       rule_id="REV-06")
    now = ctx.now()
    notice = _withdrawal_notice(schedule, why, now, ctx)
    cancelled = [v for v in rows if v.state in WITHDRAWABLE_STATES]
    for visit in cancelled:
        await move_visit(session, ctx, actor, visit, VisitAction.CANCEL, rule_id="REV-06",
                         detail={"reason": why, "by": "schedule_withdrawn", "notice": notice["zh"]})
        visit.ended_at, visit.notice = now, notice
        await emit(session, "visit.cancelled", subject_type="visit", subject_id=visit.id, version=visit.version,
                   payload=await revisit_record_of(session, ctx, visit), cipher=ctx.cipher)
    schedule.cancelled, schedule.withdrawn_reason, schedule.withdrawn_at = True, why, now
    schedule.booked = max(0, schedule.booked - len(cancelled))
    schedule.version += 1
    schedule.touch()
    await session.flush()
    await append_audit(session, actor, "schedule.withdrawn", subject_type="schedule", subject_id=schedule.id,
                       rule_id="REV-06", detail={"reason": why, "notified_visits": [str(v.id) for v in cancelled]})
    await emit(session, "schedule.withdrawn", subject_type="schedule", subject_id=schedule.id,  # openDoctorBusiness 0
               version=schedule.version,
               payload=ScheduleWithdrawn(schedule_id=str(schedule.id), doctor_user_id=str(schedule.doctor_user_id),
                                         department_code=schedule.department_code, starts_at=schedule.starts_at,
                                         ends_at=schedule.ends_at, cancelled_visits=len(cancelled), withdrawn_at=now))
    await session.commit()
    return schedule, list(cancelled)


async def move_visit(session: AsyncSession, ctx: HospitalContext, actor: Actor, visit: Visit, action: VisitAction, *,
                     detail: dict[str, Any] | None = None, rule_id: str | None = None) -> VisitState:
    """Apply one lifecycle move to a visit the caller holds locked, bump its version and audit it: the one way
    a visit changes state, here and in the encounter. `next_state` refuses an illegal move naming the current
    state (InvalidTransition). Does not commit."""
    before = visit.state
    target = next_state(visit.state, action)
    visit.state = target.value
    visit.version += 1
    visit.touch()
    await session.flush()
    await append_audit(session, actor, f"visit.{_DONE[action]}", subject_type="visit", subject_id=visit.id,
                       rule_id=rule_id, detail={"from": before, "to": target.value, "version": visit.version,
                                                **(detail or {})}, cipher=ctx.cipher)
    if target in (VisitState.TERMINATED, VisitState.CANCELLED):  # what the visit started stops with it (RX-06)
        await publish(session, ctx, VisitEnded(visit.id, target.value, actor))
    return target
