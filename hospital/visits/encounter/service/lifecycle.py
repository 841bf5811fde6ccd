"""The visit's lifecycle, each move one transaction: the doctor accepts (after confirming the revisit), starts,
completes, or terminates a visit with a referral (REV-04); and the check the prescriptions area calls before
prescribing (RX-01).

Each move locks the visit row, checks its current state first (InvalidTransition names it), audits, and
reports the revisit record to the supervision platform where it must know. Closing a visit dates its chat's
purge (REC-02: 3 years from its end).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hospital.biometrics.gate import require_practice_session
from hospital.context import HospitalContext
from hospital.contracts.visits import VisitAccepted
from hospital.core.audit import Actor, AuditEntry
from hospital.core.errors import AccessRefused, NotFound, RuleViolation
from hospital.core.outbox import emit
from hospital.core.retention import RetentionClass, purge_not_before
from hospital.identity.tokens import Principal
from hospital.institution.service import require_licence_in_force
from hospital.patients.models import Patient
from hospital.patients.rules import age_on
from hospital.staff.service import require_can_practise, require_clinical_act
from hospital.visits.booking import queries
from hospital.visits.booking.models import Visit, seal_visit_clinical, visit_clinical, visit_guardian
from hospital.visits.booking.rules import VisitAction, next_state
from hospital.visits.booking.service import move_visit
from hospital.visits.encounter.models import ChatMessage
from hospital.visits.encounter.payloads import current_revisit_record
from hospital.visits.encounter.queries import medical_record_of_visit, open_emr
from hospital.visits.encounter.rules import (
    Referral,
    TerminationReason,
    check_emr_complete,
    check_may_prescribe,
    check_revisit_confirmed,
    check_termination,
)
from hospital.visits.encounter.service.medical_record import emr_value
from hospital.visits.icd10 import validate_icd10
from hospital.visits.intake.models import PriorDiagnosisOnFile, PriorDiagnosisRecord, open_prior
from hospital.visits.intake.reference import tables_for
from hospital.visits.intake.rules.eligibility import (
    GUARDIAN_REQUIRED_UNDER_YEARS,
    check_diagnosis_name,
    check_diagnosis_related,
    check_not_excluded,
    infectious_flag,
)
from hospital.visits.intake.service import require_current_consent

__all__ = [
    "Termination",
    "accept_visit",
    "check_prescription_diagnoses",
    "complete_visit",
    "require_visit_open_for_prescribing",
    "start_visit",
    "terminate_visit",
]


@dataclass(frozen=True, slots=True)
class Termination:
    reason: str
    referral: Referral | None
    suspected_icd10: str | None = None  # the suspected infectious disease, when the reason is one
    note: str = ""


async def _doctor_visit(session: AsyncSession, ctx: HospitalContext, visit_id: uuid.UUID,
                        doctor_user_id: uuid.UUID, *, clinical: bool = True) -> Visit:
    """The visit assigned to the doctor, locked; for a clinical act the one guard (`require_clinical_act`:
    licence, service stop, credentials, scope, department still on the licence), else only that the doctor
    may practise in its department (STAFF-03): ending a visit is allowed when serving is not."""
    visit = await queries.visit_of_doctor(session, visit_id, doctor_user_id, for_update=True)
    if clinical:
        await require_clinical_act(session, ctx, doctor_user_id, department=visit.department_code)
    else:
        await require_can_practise(session, ctx, doctor_user_id, visit.department_code)
    return visit


def _refuse_if_stopped(ctx: HospitalContext, visit: Visit) -> None:
    """A visit whose record names a condition refused online goes no further than termination (REV-03)."""
    stopped = visit_clinical(ctx.cipher, visit)["stopped"]
    if stopped:
        raise RuleViolation(stopped.get("rule_id", "REV-03"),
                            f"the visit is stopped: {stopped.get('reason', '')}; terminate it with a referral",
                            stopped=stopped)


async def _prior_of(session: AsyncSession, ctx: HospitalContext, visit: Visit) -> PriorDiagnosisOnFile:
    prior = await session.get(PriorDiagnosisRecord, visit.prior_diagnosis_id)
    if prior is None:
        raise NotFound("the visit's prior diagnosis is missing")
    return open_prior(ctx.cipher, prior)


async def _document_opened(session: AsyncSession, visit: Visit, prior: PriorDiagnosisOnFile,
                           doctor_user_id: uuid.UUID) -> bool:
    """Whether this doctor opened the visit's prior-diagnosis document (the read is audited by
    `views.visit_prior_document`)."""
    details = (await session.execute(select(col(AuditEntry.detail)).where(
        col(AuditEntry.action) == "prior_diagnosis.document_read", col(AuditEntry.subject_id) == str(prior.id),
        col(AuditEntry.actor_id) == doctor_user_id))).scalars().all()
    return any(str((d or {}).get("visit_id")) == str(visit.id) for d in details)


async def accept_visit(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                       visit_id: uuid.UUID, revisit_confirmed: bool, name_resolution: str | None = None) -> Visit:
    """接诊: a face-verified doctor (FACE-02) confirms, having opened the document (audited), that this is a
    revisit (REV-04).
    The exclusions are read again with the tables in force now (REV-03, by code and by name), and a name that
    disagrees with its code's title needs the doctor's written resolution (REV-02)."""
    await require_licence_in_force(session, ctx)
    require_practice_session(ctx, principal)
    visit = await _doctor_visit(session, ctx, visit_id, principal.user_id)
    next_state(visit.state, VisitAction.ACCEPT)  # the state first, so a second accept is told it is accepted
    check_revisit_confirmed(revisit_confirmed)
    patient = await session.get(Patient, visit.patient_id)
    if patient is None:
        raise NotFound("the visit's patient is missing")
    await require_current_consent(session, ctx, patient)  # PAT-02 again: a new text since booking is accepted first
    prior = await _prior_of(session, ctx, visit)
    if not await _document_opened(session, visit, prior, principal.user_id):
        raise RuleViolation("REV-04", "open the prior-diagnosis document before confirming the revisit: the "
                                      "confirmation rests on the record, not on the patient's claim")
    tables = tables_for(ctx)
    check_not_excluded(prior.icd10_code, tables=tables)
    check_diagnosis_name(prior.icd10_code, prior.diagnosis_name, tables=tables)
    resolution = (name_resolution or "").strip()
    if prior.name_finding and not resolution:
        raise RuleViolation("REV-02", f"{prior.name_finding}: say how it is resolved (name_resolution) having "
                                      "read the document", name_finding=prior.name_finding)
    visit.accepted_at = visit.revisit_confirmed_at = ctx.now()
    if prior.name_finding:
        seal_visit_clinical(ctx.cipher, visit, name_resolution={
            "finding": prior.name_finding, "resolution": resolution, "by_user_id": str(principal.user_id),
            "at": visit.accepted_at.isoformat()})
    gate = {"practice_session_id": str(principal.practice_session_id),
            "face_verified_at": principal.face_verified_at.isoformat() if principal.face_verified_at else None,
            "name_resolution": visit_clinical(ctx.cipher, visit)["name_resolution"]}
    await move_visit(session, ctx, actor, visit, VisitAction.ACCEPT, detail=gate, rule_id="REV-04")
    revisit = await current_revisit_record(session, ctx, visit)
    await emit(session, "visit.accepted", subject_type="visit", subject_id=visit.id, version=visit.version,
               payload=VisitAccepted(**msgspec.structs.asdict(revisit),  # and the verification it was accepted on
                                     practice_session_id=str(principal.practice_session_id),
                                     face_verified_at=principal.face_verified_at), cipher=ctx.cipher)
    await session.commit()
    return visit


async def start_visit(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                      visit_id: uuid.UUID, guardian_present_confirmed: bool = False) -> Visit:
    """The consultation begins; the doctor is still in a practice session (FACE-02). For a child under 6 the
    doctor confirms, now, that the guardian recorded at booking is present (REV-05, PD 17); the confirmation
    is kept on the visit and written into its record."""
    await require_licence_in_force(session, ctx)
    require_practice_session(ctx, principal)
    visit = await _doctor_visit(session, ctx, visit_id, principal.user_id)
    if visit.paused:
        raise AccessRefused("FACE-02", "the visit is paused until the doctor verifies their face again")
    next_state(visit.state, VisitAction.START)
    _refuse_if_stopped(ctx, visit)
    now = ctx.now()
    patient = await session.get(Patient, visit.patient_id)
    if patient is None:
        raise NotFound("the visit's patient is missing")
    age = age_on(patient.birth_date, ctx.local_date(now))
    if age < GUARDIAN_REQUIRED_UNDER_YEARS:
        guardian = visit_guardian(ctx.cipher, visit)
        if guardian is None:
            raise RuleViolation("REV-05", f"the patient is {age}: no guardian was recorded at booking")
        if not guardian_present_confirmed:
            raise RuleViolation("REV-05", f"the patient is {age} (under {GUARDIAN_REQUIRED_UNDER_YEARS}): confirm "
                                          f"that the guardian {guardian.get('name', '')} is present before "
                                          "starting (guardian_present_confirmed)", age=age)
        visit.guardian_presence_confirmed_at = now
    visit.started_at = now
    await move_visit(session, ctx, actor, visit, VisitAction.START,
                     detail={"practice_session_id": str(principal.practice_session_id),
                             "guardian_presence_confirmed_at": visit.guardian_presence_confirmed_at})
    await emit(session, "visit.started", subject_type="visit", subject_id=visit.id, version=visit.version,
               payload=await current_revisit_record(session, ctx, visit), cipher=ctx.cipher)  # SUP-02, at once
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
    _refuse_if_stopped(ctx, visit)
    record = await medical_record_of_visit(session, visit.id)
    check_emr_complete(emr_value(open_emr(ctx, record), record) if record is not None else None)
    assert record is not None
    # REV-04: the record's diagnosis is the disease the visit was founded on, or a coded complication of it
    check_diagnosis_related((await _prior_of(session, ctx, visit)).icd10_code, open_emr(ctx, record)["diagnosis_icd10"],
                            tables=tables_for(ctx))
    visit.ended_at = ctx.now()
    await move_visit(session, ctx, actor, visit, VisitAction.COMPLETE, rule_id="REC-01")
    await _close_records(session, ctx, visit)
    ended = await current_revisit_record(session, ctx, visit)
    for event_type in ("visit.completed", "visit.consult_ended"):  # the revisit record; the consult's end (SUP-02)
        await emit(session, event_type, subject_type="visit", subject_id=visit.id, version=visit.version,
                   payload=ended, cipher=ctx.cipher)
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
    visit = await _doctor_visit(session, ctx, visit_id, doctor_user_id, clinical=False)
    next_state(visit.state, VisitAction.TERMINATE)
    findings = check_termination(data.reason, data.referral)
    reason = TerminationReason(data.reason)
    clinical = visit_clinical(ctx.cipher, visit)
    if reason is TerminationReason.SUSPECTED_INFECTIOUS:
        clinical["infectious_flag"] = {**(clinical["infectious_flag"] or {}), **_suspected(data, ctx)}
    elif data.suspected_icd10:
        raise RuleViolation("REV-04", "a suspected infectious disease is reported with reason suspected_infectious")
    clinical["termination_reason"] = reason.value
    clinical["referral"] = asdict(data.referral) if data.referral is not None else None
    seal_visit_clinical(ctx.cipher, visit, **clinical)  # REC-03: the flag and the referral sealed at rest
    visit.ended_at = ctx.now()
    await move_visit(session, ctx, actor, visit, VisitAction.TERMINATE, rule_id="REV-04",
                     detail={"termination_reason": reason.value, "referral": clinical["referral"], "note": data.note,
                             "findings": [f.message for f in findings]})
    await _close_records(session, ctx, visit)
    ended = await current_revisit_record(session, ctx, visit)
    for event_type in ("visit.terminated", "visit.consult_ended"):  # the revisit record; the consult's end (SUP-02)
        await emit(session, event_type, subject_type="visit", subject_id=visit.id, version=visit.version,
                   payload=ended, cipher=ctx.cipher)
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
    _refuse_if_stopped(ctx, visit)
    return visit


def check_prescription_diagnoses(ctx: HospitalContext, codes: list[str] | tuple[str, ...]) -> None:
    """For the prescriptions area, at writing: no prescription diagnosis is a condition refused online (REV-03).
    A code that is not valid ICD-10 is left to the prescription's own checks (RX-02)."""
    tables = tables_for(ctx)
    for raw in codes:
        try:
            code = validate_icd10(raw, aliases=tables.legacy_aliases)
        except RuleViolation:
            continue
        check_not_excluded(code, tables=tables)
