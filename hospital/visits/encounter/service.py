"""The encounter's use cases, each one transaction: the doctor accepts (after confirming the revisit), starts,
completes, or terminates a visit with a referral (REV-04); writes and signs off the outpatient record
(REC-01); patient and doctor write to each other; and the check the prescriptions area calls before
prescribing (RX-01).

Each move locks the visit row, checks its current state first (InvalidTransition names it), audits, and
reports the revisit record to the supervision platform where it must know. The EMR and the chat are sealed at
rest (REC-03) and carry the date they may be purged (REC-02): a chat 3 years from its visit's end, a record
15 years from sign-off. A doctor writes the record and messages only while the visit is accepted or in
progress; the patient reads the record once it is signed off.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hospital.biometrics.gate import require_practice_session, require_signing_freshness
from hospital.context import HospitalContext
from hospital.contracts.visits import VisitAccepted
from hospital.core.audit import Actor, AuditEntry, append_audit, audit_read
from hospital.core.errors import AccessRefused, InvalidInput, InvalidTransition, NotFound, RuleViolation
from hospital.core.outbox import emit
from hospital.core.retention import RetentionClass, purge_not_before
from hospital.identity.models import Role
from hospital.identity.tokens import Principal
from hospital.institution.service import require_licence_in_force
from hospital.patients.models import Patient
from hospital.patients.rules import age_on
from hospital.signing.service import DeviceSignature, requested_payload, require_device_signature
from hospital.staff.service import require_can_practise, require_clinical_act
from hospital.visits.booking import queries
from hospital.visits.booking.models import Visit, seal_visit_clinical, visit_clinical, visit_guardian
from hospital.visits.booking.rules import VisitAction, VisitState, next_state
from hospital.visits.booking.service import move_visit
from hospital.visits.encounter.models import ChatMessage, MedicalRecord
from hospital.visits.encounter.payloads import current_revisit_record, emr_record
from hospital.visits.encounter.queries import (
    chat_seal_context,
    emr_seal_context,
    medical_record_of_visit,
    messages_of_visit,
    open_emr,
)
from hospital.visits.encounter.rules import (
    PRESCRIBING_STATES,
    OnlineEmr,
    Referral,
    TerminationReason,
    check_emr_complete,
    check_may_prescribe,
    check_revisit_confirmed,
    check_termination,
)
from hospital.visits.icd10 import Icd10Code, validate_icd10
from hospital.visits.intake.models import PriorDiagnosisOnFile, PriorDiagnosisRecord, open_prior
from hospital.visits.intake.reference import IntakeTables, tables_for
from hospital.visits.intake.rules import (
    GUARDIAN_REQUIRED_UNDER_YEARS,
    check_diagnosis_name,
    check_diagnosis_related,
    check_not_excluded,
    infectious_flag,
)
from hospital.visits.intake.service import require_current_consent

__all__ = [
    "MAX_MESSAGE_CHARS",
    "EmrInput",
    "Termination",
    "accept_visit",
    "check_prescription_diagnoses",
    "complete_visit",
    "list_messages",
    "post_message",
    "read_medical_record",
    "require_visit_open_for_prescribing",
    "sign_off_medical_record",
    "start_visit",
    "terminate_visit",
    "write_medical_record",
]

MAX_MESSAGE_CHARS = 4000


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
    check_emr_complete(_emr_value(open_emr(ctx, record), record) if record is not None else None)
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


# The outpatient record (REC-01).


@dataclass(frozen=True, slots=True)
class EmrInput:
    """The fields of an outpatient 复诊病历 (病历书写基本规范)."""

    chief_complaint: str  # 主诉
    present_illness: str  # 现病史
    allergy_history: str  # 过敏史 ("无" when none)
    diagnosis_icd10: str
    diagnosis_name: str
    treatment_advice: str  # 治疗处理意见
    past_history: str = ""  # 既往史
    examination_findings: str = ""  # 体格检查和辅助检查结果, as reported or uploaded


async def _open_visit(session: AsyncSession, ctx: HospitalContext, visit_id: uuid.UUID, doctor_user_id: uuid.UUID) -> Visit:
    await require_licence_in_force(session, ctx)
    visit = await queries.visit_of_doctor(session, visit_id, doctor_user_id, for_update=True)
    await require_clinical_act(session, ctx, doctor_user_id, department=visit.department_code)
    if VisitState(visit.state) not in PRESCRIBING_STATES:
        raise InvalidTransition(f"the medical record is written while the visit is accepted or in progress, "
                                f"not {visit.state}", current_state=visit.state, rule_id="REC-01")
    return visit


def _refuse_if_signed(record: MedicalRecord | None) -> None:
    if record is not None and record.signed_at is not None:
        raise InvalidTransition("the medical record is signed off and can no longer change", current_state="signed",
                                rule_id="REC-01")


async def write_medical_record(session: AsyncSession, ctx: HospitalContext, actor: Actor, doctor_user_id: uuid.UUID,
                               visit_id: uuid.UUID, data: EmrInput) -> MedicalRecord:
    """Create or replace the draft EMR of an open visit; the diagnosis must be a real ICD-10 code whose name
    agrees with its title (REV-02, refused otherwise). A diagnosis refused online (REV-03: by code, or by a
    name that stands for such a condition) is recorded, as the doctor found it, and stops the visit: from then
    on it can only be terminated with a referral (`visit.stopped`)."""
    visit = await _open_visit(session, ctx, visit_id, doctor_user_id)
    record = await medical_record_of_visit(session, visit.id, for_update=True)
    _refuse_if_signed(record)
    tables = tables_for(ctx)
    code = validate_icd10(data.diagnosis_icd10, aliases=tables.legacy_aliases)
    stop = _exclusion_stop(code, data.diagnosis_name.strip(), tables)
    visited_at = visit.started_at or visit.accepted_at
    content = {**{k: v.strip() for k, v in asdict(data).items()}, "diagnosis_icd10": code.code,
               "department_code": visit.department_code, "visited_at": visited_at.isoformat() if visited_at else None}
    if visit.guardian_presence_confirmed_at is not None:  # REV-05: the doctor's confirmation at start
        content["guardian_presence_confirmed_at"] = visit.guardian_presence_confirmed_at.isoformat()
    sealed = _seal_emr(ctx, visit, content)
    if record is None:
        record = MedicalRecord(visit_id=visit.id, content_sealed=sealed)
        session.add(record)
    else:
        record.content_sealed = sealed
        record.version += 1
        record.touch()
    await session.flush()
    await append_audit(session, actor, "medical_record.written", subject_type="medical_record", subject_id=record.id,
                       rule_id="REC-01", detail={"visit_id": visit.id, "version": record.version,
                                                 "diagnosis_icd10": code.code}, cipher=ctx.cipher)
    clinical = visit_clinical(ctx.cipher, visit)
    if stop is not None and clinical["stopped"] is None:
        clinical["stopped"] = {**stop, "at": ctx.now().isoformat(), "medical_record_id": str(record.id)}
        flag = infectious_flag(code, tables=tables)
        if flag is not None:  # a class A infection found in the visit is reported too (REV-04)
            clinical["infectious_flag"] = {
                **(clinical["infectious_flag"] or {}), "source": "medical_record", "suspected": True,
                "icd10_code": code.code, "disease_zh": flag.disease_zh, "disease_en": flag.disease_en,
                "statutory_class": flag.statutory_class.value, "report_within_hours": flag.report_within_hours}
        seal_visit_clinical(ctx.cipher, visit, **clinical)  # REC-03
        visit.version += 1
        visit.touch()
        await session.flush()
        await append_audit(session, actor, "visit.stopped", subject_type="visit", subject_id=visit.id,
                           rule_id=stop["rule_id"], detail={"stopped": clinical["stopped"]}, cipher=ctx.cipher)
    await session.commit()
    return record


def _exclusion_stop(code: Icd10Code, name: str, tables: IntakeTables) -> dict[str, Any] | None:
    """Why a recorded diagnosis stops the visit (REV-03), or None; a name that disagrees with its code's title
    is refused so the doctor corrects it (REV-02)."""
    try:
        check_not_excluded(code, tables=tables)
        named = check_diagnosis_name(code, name, tables=tables)
    except RuleViolation as refused:
        if refused.rule_id != "REV-03":
            raise
        return {"rule_id": "REV-03", "icd10_code": code.code, "reason": refused.detail,
                "kind": refused.extra.get("kind")}
    if not named.matches:
        assert named.finding is not None
        raise RuleViolation("REV-02", named.finding.message.replace("before accepting", "in the record"),
                            icd10_code=code.code)
    return None


async def sign_off_medical_record(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                                  visit_id: uuid.UUID,
                                  signature: DeviceSignature | None = None) -> MedicalRecord:
    """The doctor signs the complete EMR off with a fresh face verification (FACE-03); it becomes read-only,
    readable by the patient, kept 15 years, and is reported (`emr.signed`)."""
    require_signing_freshness(ctx, principal)
    visit = await _open_visit(session, ctx, visit_id, principal.user_id)
    record = await medical_record_of_visit(session, visit.id, for_update=True)
    if record is None:
        raise RuleViolation("REC-01", "write the medical record before signing it off")
    _refuse_if_signed(record)
    content = open_emr(ctx, record)
    # Everything but the signature must be there; the signature is what this sign-off makes.
    check_emr_complete(replace(_emr_value(content, None), doctor_signature=f"signed off by {principal.user_id}"))
    # RX-05: every online diagnosis carries the doctor's e-signature, made on the doctor's device; the JWS covers
    # the whole record, its visit and the face verification that allowed signing (FACE-03), verifiable offline
    # with the CA. The second trip reuses the time prepared on the first.
    signature = signature or DeviceSignature()
    act = f"emr:{record.id}:{record.version}"
    earlier = requested_payload(ctx, principal.user_id, act, signature)
    signed_at = datetime.fromisoformat(earlier["signed_at"]) if earlier else ctx.now()
    accepted = await require_device_signature(session, ctx, principal.user_id, act, {
        "document": "outpatient_medical_record", "medical_record_id": str(record.id), "visit_id": str(visit.id),
        "version": record.version + 1, "signed_at": signed_at.isoformat(), "record": content,
        "face_verification": {"practice_session_id": str(principal.practice_session_id),
                              "verified_at": principal.face_verified_at.isoformat()
                              if principal.face_verified_at else None}}, signature)
    record.signed_at = signed_at
    record.signed_by_user_id = principal.user_id
    record.signature = accepted.jws
    record.purge_not_before = purge_not_before(RetentionClass.MEDICAL_RECORD, ctx.today())
    record.version += 1
    record.touch()
    await session.flush()
    await append_audit(session, actor, "medical_record.signed", subject_type="medical_record", subject_id=record.id,
                       rule_id="REC-01", detail={"visit_id": visit.id, "version": record.version,
                                                 "purge_not_before": record.purge_not_before})
    await emit(session, "emr.signed", subject_type="medical_record", subject_id=record.id, version=record.version,
               payload=await emr_record(session, ctx, visit, record), cipher=ctx.cipher)
    await session.commit()
    return record


async def read_medical_record(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID, role: str,
                              visit_id: uuid.UUID, *, read_by: Actor | None = None) -> dict[str, Any]:
    """The visit's EMR for its doctor (draft or signed) or its patient (signed only); NotFound otherwise. `read_by`:
    a read of its own (GET), audited as `medical_record.read` (SEC-02)."""
    visit = await queries.visit_of_participant(session, visit_id, user_id, role)
    record = await medical_record_of_visit(session, visit.id)
    if record is None or (role == Role.PATIENT and record.signed_at is None):
        raise NotFound("this visit has no signed medical record yet")
    if read_by is not None:
        await audit_read(session, read_by, "medical_record.read", subject_type="medical_record", records=[record.id],
                         patients=[visit.patient_user_id])
    return {"medical_record_id": str(record.id), "visit_id": str(visit.id), **open_emr(ctx, record),
            "signed": record.signed_at is not None,
            "signed_at": record.signed_at.isoformat() if record.signed_at else None,
            "signed_by_user_id": str(record.signed_by_user_id) if record.signed_by_user_id else None,
            "signature": record.signature, "version": record.version, "retention_class": RetentionClass.MEDICAL_RECORD.value,
            "purge_not_before": record.purge_not_before.isoformat() if record.purge_not_before else None}


def _seal_emr(ctx: HospitalContext, visit: Visit, content: dict[str, Any]) -> bytes:
    """The EMR fields as JSON, sealed to their visit (REC-03): a record moved to another visit fails to open."""
    return ctx.cipher.seal(json.dumps(content, ensure_ascii=False, sort_keys=True).encode(),
                           context=emr_seal_context(visit.id))


def _emr_value(content: dict[str, Any], record: MedicalRecord | None) -> OnlineEmr:
    """The stored EMR as the REC-01 rule reads it. Until RX-05 puts the doctor's JWS in `signature`, the
    recorded sign-off (who and when) stands for the signature."""
    signature = None
    if record is not None:
        signature = record.signature or (f"signed off by {record.signed_by_user_id} at {record.signed_at.isoformat()}"
                                         if record.signed_at else None)
    visited_at = content.get("visited_at")
    return OnlineEmr(
        visited_at=datetime.fromisoformat(visited_at) if visited_at else None,
        department_code=content.get("department_code", ""), chief_complaint=content.get("chief_complaint", ""),
        present_illness=content.get("present_illness", ""), allergy_history=content.get("allergy_history", ""),
        diagnosis_icd10=content.get("diagnosis_icd10", ""), diagnosis_name=content.get("diagnosis_name", ""),
        treatment_advice=content.get("treatment_advice", ""), doctor_signature=signature,
        examination_findings=content.get("examination_findings", ""), past_history=content.get("past_history", ""))


# Text messages within a visit.


def _message_view(ctx: HospitalContext, message: ChatMessage) -> dict[str, Any]:
    return {"message_id": str(message.id), "visit_id": str(message.visit_id), "sender_role": message.sender_role,
            "sender_user_id": str(message.sender_user_id), "sent_at": message.created_at.isoformat(),
            "body": ctx.cipher.open_text(message.body_sealed, context=chat_seal_context(message.visit_id))}


async def post_message(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                       visit_id: uuid.UUID, body: str) -> dict[str, Any]:
    """A message from the visit's patient or doctor; the doctor writes within a practice session (FACE-02)."""
    await require_licence_in_force(session, ctx)
    text = body.strip()
    if not 1 <= len(text) <= MAX_MESSAGE_CHARS:
        raise InvalidInput(f"a message has 1 to {MAX_MESSAGE_CHARS} characters")
    visit = await queries.visit_of_participant(session, visit_id, principal.user_id, principal.role, for_update=True)
    if principal.role == Role.DOCTOR:
        require_practice_session(ctx, principal)
        await require_can_practise(session, ctx, principal.user_id, visit.department_code)
    if VisitState(visit.state) not in PRESCRIBING_STATES:
        raise InvalidTransition(f"messages are written while the visit is accepted or in progress, not {visit.state}",
                                current_state=visit.state)
    now = ctx.now()
    message = ChatMessage(visit_id=visit.id, sender_user_id=principal.user_id, sender_role=principal.role,
                          body_sealed=ctx.cipher.seal_text(text, context=chat_seal_context(visit.id)),
                          purge_not_before=purge_not_before(RetentionClass.CHAT, ctx.today()),
                          created_at=now, updated_at=now)
    session.add(message)
    await session.flush()
    await append_audit(session, actor, "chat.message_posted", subject_type="visit", subject_id=visit.id,
                       detail={"message_id": message.id, "sender_role": principal.role, "characters": len(text)})
    await session.commit()
    return _message_view(ctx, message)


async def list_messages(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID, role: str,
                        visit_id: uuid.UUID, *, read_by: Actor | None = None) -> list[dict[str, Any]]:
    """The visit's messages in the order sent, for its patient or doctor (NotFound for anyone else); with
    `read_by`, one `chat.read` entry names the messages read (SEC-02)."""
    visit = await queries.visit_of_participant(session, visit_id, user_id, role)
    messages = await messages_of_visit(session, visit.id)
    views = [_message_view(ctx, m) for m in messages]
    if read_by is not None:
        await audit_read(session, read_by, "chat.read", subject_type="chat_message", records=[m.id for m in messages],
                         patients=[visit.patient_user_id])
    return views
