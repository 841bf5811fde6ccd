"""The doctor's side of a visit: accept (after confirming the revisit), start, complete, or terminate with a
referral (REV-04); and the check the prescriptions area calls before prescribing (RX-01).

Each move locks the visit row, checks its current state first (InvalidTransition names it), audits, and
reports the revisit record to the supervision platform where it must know.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.biometrics.gate import require_practice_session
from hospital.context import HospitalContext
from hospital.core.audit import Actor
from hospital.core.errors import AccessRefused, RuleViolation
from hospital.core.outbox import emit
from hospital.core.retention import RetentionClass, purge_not_before
from hospital.identity.tokens import Principal
from hospital.institution.service import require_licence_in_force
from hospital.staff.service import require_can_practise
from hospital.visits import queries
from hospital.visits.common import emr_value, move, open_emr
from hospital.visits.icd10 import validate_icd10
from hospital.visits.intake.reference import tables_for
from hospital.visits.intake.rules import infectious_flag
from hospital.visits.lifecycle import (
    Referral,
    TerminationReason,
    VisitAction,
    check_may_prescribe,
    check_revisit_confirmed,
    check_termination,
    next_state,
)
from hospital.visits.models import ChatMessage, Visit
from hospital.visits.payloads import REVISIT_SEALED, revisit_record
from hospital.visits.records import check_emr_complete

__all__ = ["Termination", "accept_visit", "complete_visit", "require_visit_open_for_prescribing", "start_visit",
           "terminate_visit"]


@dataclass(frozen=True, slots=True)
class Termination:
    reason: str
    referral: Referral | None
    suspected_icd10: str | None = None  # the suspected infectious disease, when the reason is one
    note: str = ""


async def _doctor_visit(session: AsyncSession, ctx: HospitalContext, visit_id: uuid.UUID,
                        doctor_user_id: uuid.UUID) -> Visit:
    """The visit assigned to the doctor, locked; the doctor may still practise in its department (STAFF-03)."""
    visit = await queries.visit_of_doctor(session, visit_id, doctor_user_id, for_update=True)
    await require_can_practise(session, ctx, doctor_user_id, visit.department_code)
    return visit


async def accept_visit(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                       visit_id: uuid.UUID, revisit_confirmed: bool) -> Visit:
    """接诊: a face-verified doctor (FACE-02) confirms, having seen the records, that this is a revisit (REV-04)."""
    await require_licence_in_force(session, ctx)
    require_practice_session(ctx, principal)
    visit = await _doctor_visit(session, ctx, visit_id, principal.user_id)
    next_state(visit.state, VisitAction.ACCEPT)  # the state first, so a second accept is told it is accepted
    check_revisit_confirmed(revisit_confirmed)
    visit.accepted_at = visit.revisit_confirmed_at = ctx.now()
    gate = {"practice_session_id": str(principal.practice_session_id),
            "face_verified_at": principal.face_verified_at.isoformat() if principal.face_verified_at else None}
    await move(session, ctx, actor, visit, VisitAction.ACCEPT, detail=gate, rule_id="REV-04")
    await emit(session, "visit.accepted", subject_type="visit", subject_id=visit.id, version=visit.version,
               payload={**await revisit_record(session, ctx, visit), **gate}, seal=REVISIT_SEALED, cipher=ctx.cipher)
    await session.commit()
    return visit


async def start_visit(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                      visit_id: uuid.UUID) -> Visit:
    """The consultation begins; the doctor is still in a practice session (FACE-02)."""
    await require_licence_in_force(session, ctx)
    require_practice_session(ctx, principal)
    visit = await _doctor_visit(session, ctx, visit_id, principal.user_id)
    if visit.paused:
        raise AccessRefused("FACE-02", "the visit is paused until the doctor verifies their face again")
    next_state(visit.state, VisitAction.START)
    visit.started_at = ctx.now()
    await move(session, ctx, actor, visit, VisitAction.START,
               detail={"practice_session_id": str(principal.practice_session_id)})
    await session.commit()
    return visit


async def _close_records(session: AsyncSession, ctx: HospitalContext, visit: Visit) -> None:
    """The chat of a closed visit is kept 3 years from its end (REC-02)."""
    keep_until = purge_not_before(RetentionClass.CHAT, ctx.today())
    await session.execute(update(ChatMessage).where(ChatMessage.visit_id == visit.id)  # type: ignore[arg-type]
                          .values(purge_not_before=keep_until))


async def complete_visit(session: AsyncSession, ctx: HospitalContext, actor: Actor, doctor_user_id: uuid.UUID,
                         visit_id: uuid.UUID) -> Visit:
    """The consultation ends normally; its outpatient EMR must be complete and signed off (REC-01)."""
    await require_licence_in_force(session, ctx)
    visit = await _doctor_visit(session, ctx, visit_id, doctor_user_id)
    next_state(visit.state, VisitAction.COMPLETE)
    record = await queries.medical_record_of_visit(session, visit.id)
    check_emr_complete(emr_value(open_emr(ctx, record), record) if record is not None else None)
    visit.ended_at = ctx.now()
    await move(session, ctx, actor, visit, VisitAction.COMPLETE, rule_id="REC-01")
    await _close_records(session, ctx, visit)
    await emit(session, "visit.completed", subject_type="visit", subject_id=visit.id, version=visit.version,
               payload=await revisit_record(session, ctx, visit), seal=REVISIT_SEALED, cipher=ctx.cipher)
    await session.commit()
    return visit


def _suspected(data: Termination, ctx: HospitalContext) -> dict[str, object]:
    flag: dict[str, object] = {"source": "doctor", "suspected": True, "note": data.note}
    if data.suspected_icd10:
        tables = tables_for(ctx)
        code = validate_icd10(data.suspected_icd10, aliases=tables.legacy_aliases)
        flag["icd10_code"] = code.code
        disease = infectious_flag(code, tables=tables)
        if disease is not None:
            flag.update(disease_zh=disease.disease_zh, disease_en=disease.disease_en,
                        statutory_class=disease.statutory_class.value, report_within_hours=disease.report_within_hours)
    return flag


async def terminate_visit(session: AsyncSession, ctx: HospitalContext, actor: Actor, doctor_user_id: uuid.UUID,
                          visit_id: uuid.UUID, data: Termination) -> Visit:
    """REV-04: end the online visit (a first visit discovered, the condition changed, unsuitable, a suspected
    infection) and refer the patient offline. Allowed without a licence in force: stopping is not serving."""
    visit = await _doctor_visit(session, ctx, visit_id, doctor_user_id)
    next_state(visit.state, VisitAction.TERMINATE)
    findings = check_termination(data.reason, data.referral)
    reason = TerminationReason(data.reason)
    if reason is TerminationReason.SUSPECTED_INFECTIOUS:
        visit.infectious_flag = {**(visit.infectious_flag or {}), **_suspected(data, ctx)}
    elif data.suspected_icd10:
        raise RuleViolation("REV-04", "a suspected infectious disease is reported with reason suspected_infectious")
    visit.termination_reason = reason.value
    visit.referral = asdict(data.referral) if data.referral is not None else None
    visit.ended_at = ctx.now()
    await move(session, ctx, actor, visit, VisitAction.TERMINATE, rule_id="REV-04",
               detail={"reason": reason.value, "referral": visit.referral, "note": data.note,
                       "findings": [f.message for f in findings]})
    await _close_records(session, ctx, visit)
    await emit(session, "visit.terminated", subject_type="visit", subject_id=visit.id, version=visit.version,
               payload=await revisit_record(session, ctx, visit), seal=REVISIT_SEALED, cipher=ctx.cipher)
    await session.commit()
    return visit


async def require_visit_open_for_prescribing(session: AsyncSession, ctx: HospitalContext, visit_id: uuid.UUID,
                                             doctor_user_id: uuid.UUID) -> Visit:
    """For the prescriptions area: the doctor's own visit (else NotFound), accepted or in progress (RX-01,
    InvalidTransition naming the state), not paused by the face watch, the doctor able to practise in its
    department (STAFF-03) and the licence in force (INS-01). The visit row stays locked until the caller's
    transaction ends, so the visit cannot be terminated while the prescription is written. Does not commit."""
    await require_licence_in_force(session, ctx)
    visit = await _doctor_visit(session, ctx, visit_id, doctor_user_id)
    check_may_prescribe(visit.state)
    if visit.paused:
        raise AccessRefused("FACE-02", "the visit is paused until the doctor verifies their face again")
    return visit
