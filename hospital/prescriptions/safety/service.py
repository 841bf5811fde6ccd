"""The patient's safety context (RX-04): recorded by the patient (at intake), confirmed or corrected by the
visit's doctor; every version kept and audited, every read audited; what the prescription rules take from it.

Each change is a new version (1, 2, …) of the patient's context, sealed, naming who recorded it, in which visit,
and whether a doctor confirmed it. The current version is the highest. A child's weight counts for prescribing
only when it was recorded in the visit being prescribed in (today's weight, not last year's).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import InvalidTransition, NotFound
from hospital.identity.tokens import Principal
from hospital.patients.models import Patient
from hospital.patients.service import get_patient_for_user
from hospital.prescriptions.formulary.queries import formulary_of
from hospital.prescriptions.safety.models import PatientSafetyContext
from hospital.prescriptions.safety.rules import allergy_vocabulary, check_safety_context
from hospital.prescriptions.safety.values import SafetyContext, SafetyFacts
from hospital.staff.service import require_can_practise
from hospital.visits.booking import queries as visits
from hospital.visits.booking.models import Visit

__all__ = ["confirm_in_visit", "context_view", "facts_for_visit", "read_for_visit", "read_own", "record_own", "seal_content",
           "vocabulary"]

OPEN_FOR_CONFIRMATION = ("accepted", "in_progress")


def seal_content(ctx: HospitalContext, content: SafetyContext, row_id: uuid.UUID) -> bytes:
    """The sealed content of a version row (bound to its row: it opens nowhere else)."""
    return ctx.cipher.seal(json.dumps(content.as_json(), ensure_ascii=False).encode(),
                           context=f"safety_context.content:{row_id}")


def _open(ctx: HospitalContext, row: PatientSafetyContext) -> SafetyContext:
    return SafetyContext.from_json(json.loads(ctx.cipher.open(row.content_sealed,
                                                              context=f"safety_context.content:{row.id}")))


async def _current(session: AsyncSession, patient_id: uuid.UUID) -> PatientSafetyContext | None:
    found: PatientSafetyContext | None = (await session.execute(
        select(PatientSafetyContext).where(PatientSafetyContext.patient_id == patient_id)
        .order_by(col(PatientSafetyContext.version).desc()).limit(1))).scalars().first()
    return found


def context_view(ctx: HospitalContext, row: PatientSafetyContext | None) -> dict[str, Any]:
    if row is None:
        return {"recorded": False, "allergy_status": None}
    return {"recorded": True, "version": row.version, "visit_id": str(row.visit_id) if row.visit_id else None,
            "recorded_by_role": row.recorded_by_role, "confirmed_by_doctor": row.confirmed_by_doctor,
            "recorded_at": row.recorded_at.isoformat(), **_open(ctx, row).as_json()}


async def _add_version(session: AsyncSession, ctx: HospitalContext, actor: Actor, patient: Patient,
                       content: SafetyContext, *, visit_id: uuid.UUID | None, by: Principal,
                       confirmed: bool, action: str) -> PatientSafetyContext:
    checked = check_safety_context(content, formulary_of(ctx), patient_sex=patient.sex)
    current = await _current(session, patient.id)
    row_id = uuid.uuid4()
    row = PatientSafetyContext(id=row_id, patient_id=patient.id, version=(current.version if current else 0) + 1,
                               visit_id=visit_id, recorded_by_user_id=by.user_id, recorded_by_role=by.role,
                               confirmed_by_doctor=confirmed, content_sealed=seal_content(ctx, checked, row_id),
                               recorded_at=ctx.now())
    session.add(row)
    await session.flush()
    changed = sorted(k for k, v in checked.as_json().items()
                     if current is None or _open(ctx, current).as_json().get(k) != v)
    await append_audit(session, actor, action, subject_type="patient_safety_context", subject_id=row.id,
                       rule_id="RX-04", detail={"patient_id": patient.id, "version": row.version,
                                                "visit_id": visit_id, "changed": changed})
    return row


async def record_own(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                     content: SafetyContext, visit_id: uuid.UUID | None = None) -> dict[str, Any]:
    """The patient states their allergies and state (at intake, or for a visit of theirs): a new version."""
    patient = await get_patient_for_user(session, principal.user_id)
    if visit_id is not None:
        await visits.visit_of_patient(session, visit_id, principal.user_id)  # NotFound unless theirs
    row = await _add_version(session, ctx, actor, patient, content, visit_id=visit_id, by=principal,
                             confirmed=False, action="safety_context.recorded")
    view = context_view(ctx, row)
    await session.commit()
    return view


async def _doctors_open_visit(session: AsyncSession, ctx: HospitalContext, principal: Principal,
                              visit_id: uuid.UUID) -> tuple[Visit, Patient]:
    visit = await visits.visit_of_doctor(session, visit_id, principal.user_id, for_update=True)
    await require_can_practise(session, ctx, principal.user_id, visit.department_code)
    patient = await session.get(Patient, visit.patient_id)
    if patient is None:
        raise NotFound("no such patient")
    return visit, patient


async def confirm_in_visit(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                           visit_id: uuid.UUID, content: SafetyContext | None) -> dict[str, Any]:
    """The visit's doctor confirms the patient's statement as it stands (no `content`) or corrects it: a new
    version, confirmed, recorded in this visit."""
    visit, patient = await _doctors_open_visit(session, ctx, principal, visit_id)
    if visit.state not in OPEN_FOR_CONFIRMATION:
        raise InvalidTransition(f"the safety context is confirmed in an accepted or running visit, not {visit.state}",
                                current_state=visit.state, rule_id="RX-04")
    current = await _current(session, patient.id)
    if content is None:
        if current is None:
            raise NotFound("the patient has stated nothing yet: record the context (allergies first)")
        content = _open(ctx, current)
    row = await _add_version(session, ctx, actor, patient, content, visit_id=visit.id, by=principal,
                             confirmed=True, action="safety_context.confirmed")
    view = context_view(ctx, row)
    await session.commit()
    return view


async def _audited_read(session: AsyncSession, ctx: HospitalContext, actor: Actor, patient: Patient,
                        row: PatientSafetyContext | None) -> dict[str, Any]:
    view = context_view(ctx, row)
    if row is not None:
        await append_audit(session, actor, "safety_context.read", subject_type="patient_safety_context",
                           subject_id=row.id, rule_id="SEC-01", detail={"patient_id": patient.id,
                                                                         "version": row.version})
        await session.commit()
    return view


async def read_own(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal
                   ) -> dict[str, Any]:
    patient = await get_patient_for_user(session, principal.user_id)
    return await _audited_read(session, ctx, actor, patient, await _current(session, patient.id))


async def read_for_visit(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                         visit_id: uuid.UUID) -> dict[str, Any]:
    """The visit's doctor or patient reads the patient's current context (audited)."""
    if principal.role == "doctor":
        visit = await visits.visit_of_doctor(session, visit_id, principal.user_id)
    else:
        visit = await visits.visit_of_patient(session, visit_id, principal.user_id)
    patient = await session.get(Patient, visit.patient_id)
    if patient is None:
        raise NotFound("no such patient")
    return await _audited_read(session, ctx, actor, patient, await _current(session, patient.id))


async def facts_for_visit(session: AsyncSession, ctx: HospitalContext, visit: Visit) -> SafetyFacts:
    """What the prescription rules take for `visit` (no audit: the prescription's own audit names the version)."""
    row = await _current(session, visit.patient_id)
    if row is None:
        return SafetyFacts(None, None, None)
    content = _open(ctx, row)
    weighed_here = (await session.execute(
        select(PatientSafetyContext).where(PatientSafetyContext.patient_id == visit.patient_id,
                                           PatientSafetyContext.visit_id == visit.id)
        .order_by(col(PatientSafetyContext.version).desc()))).scalars().all()
    weight = next((w for r in weighed_here if (w := _open(ctx, r).weight_kg) is not None), None)
    return SafetyFacts(content, str(row.id), weight)


def vocabulary(ctx: HospitalContext) -> list[str]:
    """The allergy codes a form offers: allergen groups and formulary substances."""
    return sorted(allergy_vocabulary(formulary_of(ctx)))
