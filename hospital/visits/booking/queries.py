"""Reads of visits and schedules, visits always scoped to the caller (SEC-01).

A patient sees their own visits (their consent and prior diagnoses: `intake.queries`); a doctor sees the
visits assigned to them (and what belongs to those visits); any other id is `NotFound`, never 403, so an id
reveals nothing. Services and other areas (the encounter, video) read visits only through these functions.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.context import HospitalContext
from hospital.core.errors import NotFound
from hospital.identity.models import Role
from hospital.institution.models import Department
from hospital.visits.booking.models import Schedule, Visit
from hospital.visits.booking.rules import VisitState
from hospital.visits.intake.models import PriorDiagnosisRecord
from hospital.visits.intake.reference import tables_for

__all__ = [
    "ACTIVE_STATES",
    "QUEUE_STATES",
    "department_name",
    "doctor_queue",
    "prior_diagnosis_of_visit",
    "upcoming_schedules",
    "visit_of_doctor",
    "visit_of_participant",
    "visit_of_patient",
    "visits_of_doctor",
    "visits_of_patient",
]

# A booking that still holds its place in the schedule (everything but a cancellation).
ACTIVE_STATES = tuple(s.value for s in VisitState if s is not VisitState.CANCELLED)
# What a doctor still has to see today.
QUEUE_STATES = (VisitState.REQUESTED.value, VisitState.ACCEPTED.value, VisitState.IN_PROGRESS.value)
_NO_VISIT = "no such visit"


async def prior_diagnosis_of_visit(session: AsyncSession, visit: Visit) -> PriorDiagnosisRecord:
    """The prior diagnosis the visit was booked against (RX-01 compares the prescription with it)."""
    prior = await session.get(PriorDiagnosisRecord, visit.prior_diagnosis_id)
    if prior is None:  # the foreign key makes this impossible unless the row was purged
        raise NotFound("the visit's prior diagnosis is no longer kept")
    return prior


async def _visit(session: AsyncSession, visit_id: uuid.UUID, owner: object, for_update: bool) -> Visit:
    query = select(Visit).where(Visit.id == visit_id, owner)  # type: ignore[arg-type]
    if for_update:
        # The row lock serialises concurrent changes of one visit on PostgreSQL (SQLite transactions are
        # IMMEDIATE); populate_existing refreshes a copy already in the session.
        query = query.with_for_update().execution_options(populate_existing=True)
    visit = (await session.execute(query)).scalar_one_or_none()
    if visit is None:
        raise NotFound(_NO_VISIT)
    return visit


async def visit_of_patient(session: AsyncSession, visit_id: uuid.UUID, patient_user_id: uuid.UUID, *,
                           for_update: bool = False) -> Visit:
    return await _visit(session, visit_id, Visit.patient_user_id == patient_user_id, for_update)


async def visit_of_doctor(session: AsyncSession, visit_id: uuid.UUID, doctor_user_id: uuid.UUID, *,
                          for_update: bool = False) -> Visit:
    return await _visit(session, visit_id, Visit.doctor_user_id == doctor_user_id, for_update)


async def visit_of_participant(session: AsyncSession, visit_id: uuid.UUID, user_id: uuid.UUID, role: str, *,
                               for_update: bool = False) -> Visit:
    """The visit if the caller is its patient or its doctor; NotFound for everyone else."""
    if role == Role.PATIENT:
        return await visit_of_patient(session, visit_id, user_id, for_update=for_update)
    if role == Role.DOCTOR:
        return await visit_of_doctor(session, visit_id, user_id, for_update=for_update)
    raise NotFound(_NO_VISIT)


async def visits_of_patient(session: AsyncSession, patient_user_id: uuid.UUID) -> list[tuple[Visit, Schedule]]:
    query = (select(Visit, Schedule).join(Schedule, col(Schedule.id) == col(Visit.schedule_id))
             .where(Visit.patient_user_id == patient_user_id).order_by(col(Schedule.starts_at).desc()))
    return [(v, s) for v, s in (await session.execute(query)).all()]


async def visits_of_doctor(session: AsyncSession, doctor_user_id: uuid.UUID) -> list[tuple[Visit, Schedule]]:
    query = (select(Visit, Schedule).join(Schedule, col(Schedule.id) == col(Visit.schedule_id))
             .where(Visit.doctor_user_id == doctor_user_id)
             .order_by(col(Schedule.starts_at).desc(), col(Visit.queue_number)))
    return [(v, s) for v, s in (await session.execute(query)).all()]


async def doctor_queue(session: AsyncSession, doctor_user_id: uuid.UUID, day: date,
                       zone: tzinfo) -> list[tuple[Visit, Schedule]]:
    """The doctor's visits still to be seen in schedules starting on `day` (in the hospital's `zone`), in queue order."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    query = (select(Visit, Schedule).join(Schedule, col(Schedule.id) == col(Visit.schedule_id))
             .where(Visit.doctor_user_id == doctor_user_id, col(Visit.state).in_(QUEUE_STATES),
                    col(Schedule.starts_at) >= start, col(Schedule.starts_at) < start + timedelta(days=1))
             .order_by(col(Schedule.starts_at), col(Visit.queue_number)))
    return [(v, s) for v, s in (await session.execute(query)).all()]


async def upcoming_schedules(session: AsyncSession, now: datetime, department_code: str | None = None,
                             limit: int = 200) -> list[Schedule]:
    """Published schedules that have not ended, soonest first (the public list, REV-06)."""
    query = select(Schedule).where(col(Schedule.ends_at) > now, Schedule.cancelled == False)  # noqa: E712
    if department_code:
        query = query.where(Schedule.department_code == department_code)
    query = query.order_by(col(Schedule.starts_at), col(Schedule.department_code)).limit(limit)
    return list((await session.execute(query)).scalars().all())


async def department_name(session: AsyncSession, ctx: HospitalContext, code: str) -> str:
    """The name the licence gives the department, else the national catalogue's."""
    name = (await session.execute(select(Department.name).where(Department.code == code))).scalar_one_or_none()
    if name:
        return name
    department = tables_for(ctx).departments.get(code)
    return department.name_zh if department else code


async def schedule_queues(session: AsyncSession, schedule_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[tuple[int, str]]]:
    """Every visit's `(queue_number, state)` in each of `schedule_ids`: what `rules.queue_place` reads."""
    found: dict[uuid.UUID, list[tuple[int, str]]] = {sid: [] for sid in schedule_ids}
    if not schedule_ids:
        return found
    rows = (await session.execute(select(Visit.schedule_id, Visit.queue_number, Visit.state).where(
        col(Visit.schedule_id).in_(schedule_ids)))).all()
    for schedule_id, number, state in rows:
        found[schedule_id].append((number, state))
    return found
