"""Read use cases: what patients, doctors and the public see of schedules and visits (lists and the doctor's
queue; the single visit with its record is `visits.encounter.views`).

Everything is read through the scoped queries (SEC-01); rows become plain dicts here, so table models never
reach the HTTP layer. A patient never sees another patient; a doctor sees a patient's name, sex and age,
never the ID number.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, audit_read
from hospital.core.errors import RuleViolation
from hospital.identity.models import Role
from hospital.identity.tokens import Principal
from hospital.institution.rules import department_covers
from hospital.institution.service import approved_department_codes
from hospital.patients.models import Patient
from hospital.patients.rules import age_on
from hospital.patients.service import masked
from hospital.staff.models import StaffMember
from hospital.visits.booking import queries
from hospital.visits.booking.models import Schedule, Visit, visit_clinical, visit_guardian
from hospital.visits.booking.rules import QueuePlace, VisitState, allowed_actions, queue_place
from hospital.visits.booking.service import published_fees
from hospital.visits.intake import queries as intake_queries
from hospital.visits.intake.models import PriorDiagnosisRecord, open_prior
from hospital.visits.intake.reference import tables_for
from hospital.visits.intake.rules.eligibility import check_not_excluded, check_prior_diagnosis_valid
from hospital.visits.intake.service import prior_as_rule_value
from hospital.visits.intake.views import eligibility_of, prior_diagnosis_view

__all__ = ["bookable_schedules", "doctor_queue", "my_visits", "public_schedules", "schedule_detail", "schedule_view",
           "visit_views"]

_PATIENT_ACTIONS = {"cancel"}
_DOCTOR_ACTIONS = {"accept", "start", "complete", "terminate"}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def _doctors(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, StaffMember]:
    ids = set(user_ids)
    if not ids:
        return {}
    rows = (await session.execute(select(StaffMember).where(col(StaffMember.user_id).in_(ids)))).scalars().all()
    return {m.user_id: m for m in rows}


async def public_schedules(session: AsyncSession, ctx: HospitalContext,
                           department_code: str | None = None) -> list[dict[str, Any]]:
    """Upcoming schedules with their free places: the public list the disclosure page shows (REV-06)."""
    schedules = await queries.upcoming_schedules(session, ctx.now(), department_code)
    doctors = await _doctors(session, (s.doctor_user_id for s in schedules))
    names = {code: await queries.department_name(session, ctx, code) for code in {s.department_code for s in schedules}}
    fees = published_fees(ctx)
    return [schedule_view(s, doctors.get(s.doctor_user_id), names[s.department_code], fees) for s in schedules]


async def schedule_detail(session: AsyncSession, ctx: HospitalContext, schedule: Schedule) -> dict[str, Any]:
    doctors = await _doctors(session, [schedule.doctor_user_id])
    return schedule_view(schedule, doctors.get(schedule.doctor_user_id),
                         await queries.department_name(session, ctx, schedule.department_code), published_fees(ctx))


def schedule_view(schedule: Schedule, doctor: StaffMember | None, department: str,
                  fees: dict[str, str]) -> dict[str, Any]:
    """A schedule as listed; `prices` is each offered mode's fee as the disclosure publishes it (INS-03)."""
    return {"schedule_id": str(schedule.id), "department_code": schedule.department_code, "department_name": department,
            "doctor_user_id": str(schedule.doctor_user_id), "doctor_name": doctor.real_name if doctor else None,
            "doctor_title": doctor.title if doctor else None, "starts_at": _iso(schedule.starts_at),
            "ends_at": _iso(schedule.ends_at), "capacity": schedule.capacity, "booked": schedule.booked,
            "free_places": max(0, schedule.capacity - schedule.booked), "modes": schedule.modes,
            "prices": {m: fees[m] for m in schedule.modes if m in fees}}


def _reason(code: str, rule_id: str, detail: str, **params: Any) -> dict[str, Any]:
    # `code` and `params` are for the page to say it in the patient's words (frontend i18n `journey.reason.*`);
    # `detail` is the rule's own sentence.
    return {"code": code, "rule_id": rule_id, "detail": detail, "params": params}


async def bookable_schedules(session: AsyncSession, ctx: HospitalContext, actor: Actor, patient_user_id: uuid.UUID,
                             prior_id: uuid.UUID) -> dict[str, Any]:
    """Every upcoming schedule with whether the patient's prior diagnosis `prior_id` can be booked into it, and why
    not, before anything is pressed (REV-02, REV-06). The rules booking applies decide (`check_prior_diagnosis_valid`
    on the schedule's date and department); the reason codes only word their refusal for the patient."""
    patient = await intake_queries.patient_of_user(session, patient_user_id)
    record = open_prior(ctx.cipher, await intake_queries.prior_diagnosis_of_patient(session, prior_id, patient.id))
    tables, approved, today = tables_for(ctx), await approved_department_codes(session), ctx.today()
    overall = eligibility_of(record, tables, approved, today)
    serving = overall.get("department_codes", [])
    schedules = await queries.upcoming_schedules(session, ctx.now())
    doctors = await _doctors(session, (s.doctor_user_id for s in schedules))
    names = {code: await queries.department_name(session, ctx, code)
             for code in {s.department_code for s in schedules} | set(serving)}
    fees, prior = published_fees(ctx), prior_as_rule_value(record)
    listed = []
    for schedule in schedules:
        view = schedule_view(schedule, doctors.get(schedule.doctor_user_id), names[schedule.department_code], fees)
        day = ctx.local_date(schedule.starts_at)
        try:
            check_not_excluded(prior.icd10_code, tables=tables)
            check_prior_diagnosis_valid(prior, visit_date=day, approved_department_codes=approved, tables=tables,
                                        visit_department_code=schedule.department_code)
            reason = None
        except RuleViolation as refused:
            related = any(department_covers(schedule.department_code, d) or department_covers(d, schedule.department_code)
                          for d in serving)
            if not overall["eligible"]:
                reason = _reason("diagnosis", refused.rule_id, refused.detail)
            elif not related:
                reason = _reason("department", refused.rule_id, refused.detail, department=view["department_name"],
                                 serving=[names[d] for d in serving])
            elif "window_months" in refused.extra:
                reason = _reason("expired", refused.rule_id, refused.detail, valid_until=overall["valid_until"])
            else:
                reason = _reason("other", refused.rule_id, refused.detail)
        listed.append({**view, "eligible": reason is None, "reason": reason})
    await audit_read(session, actor, "prior_diagnosis.read", subject_type="prior_diagnosis", records=[record.id],
                     patients=[patient_user_id])
    return {"prior_diagnosis": prior_diagnosis_view(record, overall),
            "serving_departments": [{"code": d, "name": names[d]} for d in serving], "schedules": listed}


def _guardian_view(ctx: HospitalContext, visit: Visit) -> dict[str, Any] | None:
    """The guardian as the visit's pages show them (REV-05): the ID number masked."""
    details = visit_guardian(ctx.cipher, visit)
    if details is None:
        return None
    return {"name": details["name"], "relationship": details["relationship"],
            "id_number": masked(details["id_number"], 6, 4), "present_confirmed": details["present_confirmed"]}


async def visit_views(session: AsyncSession, ctx: HospitalContext, rows: list[tuple[Visit, Schedule]],
                       role: str) -> list[dict[str, Any]]:
    doctors = await _doctors(session, (v.doctor_user_id for v, _ in rows))
    patient_ids = {v.patient_id for v, _ in rows}
    patients = {p.id: p for p in (await session.execute(select(Patient).where(col(Patient.id).in_(patient_ids))))
                .scalars().all()} if patient_ids else {}
    priors = {p.id: open_prior(ctx.cipher, p) for p in (await session.execute(select(PriorDiagnosisRecord).where(
        col(PriorDiagnosisRecord.id).in_({v.prior_diagnosis_id for v, _ in rows})))).scalars().all()} if rows else {}
    names = {code: await queries.department_name(session, ctx, code) for code in {v.department_code for v, _ in rows}}
    queues = await queries.schedule_queues(session, {v.schedule_id for v, _ in rows})
    own = _PATIENT_ACTIONS if role == Role.PATIENT else _DOCTOR_ACTIONS
    views = []
    for visit, schedule in rows:
        doctor, patient = doctors.get(visit.doctor_user_id), patients[visit.patient_id]
        clinical = visit_clinical(ctx.cipher, visit)
        views.append({
            "visit_id": str(visit.id), "state": visit.state, "mode": visit.mode, "queue_number": visit.queue_number,
            "queue": _queue_view(queue_place(visit.queue_number, visit.state, queues[visit.schedule_id])),
            "version": visit.version, "schedule_id": str(schedule.id), "department_code": visit.department_code,
            "department_name": names[visit.department_code], "starts_at": _iso(schedule.starts_at),
            "ends_at": _iso(schedule.ends_at), "doctor_name": doctor.real_name if doctor else None,
            "doctor_title": doctor.title if doctor else None,
            "patient": {"name": patient.real_name, "sex": patient.sex,
                        "age": age_on(patient.birth_date, ctx.local_date(schedule.starts_at))},
            "guardian": _guardian_view(ctx, visit), "prior_diagnosis": prior_diagnosis_view(priors[visit.prior_diagnosis_id]),
            "booked_at": _iso(visit.created_at), "fee_cny": visit.fee_cny,
            "fee_accepted_at": _iso(visit.fee_accepted_at), "accepted_at": _iso(visit.accepted_at),
            "revisit_confirmed_at": _iso(visit.revisit_confirmed_at), "started_at": _iso(visit.started_at),
            "ended_at": _iso(visit.ended_at), "termination_reason": clinical["termination_reason"],
            "referral": clinical["referral"], "infectious_flag": clinical["infectious_flag"], "paused": visit.paused,
            "stopped": clinical["stopped"], "name_resolution": clinical["name_resolution"], "notice": visit.notice,
            "guardian_presence_confirmed_at": _iso(visit.guardian_presence_confirmed_at),
            "allowed_actions": [a.value for a in allowed_actions(VisitState(visit.state)) if a.value in own],
        })
    return views


def _queue_view(place: QueuePlace | None) -> dict[str, int] | None:
    """The place as it stands now (REV-06): it moves when a visit before it is taken, ended or cancelled."""
    return None if place is None else {"position": place.position, "ahead": place.ahead,
                                       "with_doctor_ahead": place.with_doctor_ahead}


async def my_visits(session: AsyncSession, ctx: HospitalContext, principal: Principal,
                    actor: Actor) -> list[dict[str, Any]]:
    """A patient's own visits, or the visits assigned to a doctor; one `visit.list_read` entry names them."""
    if principal.role == Role.PATIENT:
        rows = await queries.visits_of_patient(session, principal.user_id)
    elif principal.role == Role.DOCTOR:
        rows = await queries.visits_of_doctor(session, principal.user_id)
    else:
        rows = []
    return await _audited(session, actor, await visit_views(session, ctx, rows, principal.role), rows)


async def _audited(session: AsyncSession, actor: Actor, views: list[dict[str, Any]],
                   rows: list[tuple[Visit, Schedule]]) -> list[dict[str, Any]]:
    await audit_read(session, actor, "visit.list_read", subject_type="visit", records=[v.id for v, _ in rows],
                     patients=[v.patient_user_id for v, _ in rows])
    return views


async def doctor_queue(session: AsyncSession, ctx: HospitalContext, actor: Actor, doctor_user_id: uuid.UUID,
                       day: date | None = None) -> list[dict[str, Any]]:
    """The doctor's visits still to be seen on `day` (default today, China time), in queue order (audited as one
    `visit.list_read`)."""
    rows = await queries.doctor_queue(session, doctor_user_id, day or ctx.today(), ctx.time_zone)
    return await _audited(session, actor, await visit_views(session, ctx, rows, Role.DOCTOR), rows)
