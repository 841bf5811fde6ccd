"""The outpatient record (REC-01), each use case one transaction: the doctor writes and signs off the EMR of an
open visit; its patient and doctor read it (the patient once signed off). Sealed at rest (REC-03) and kept 15
years from sign-off (REC-02).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hospital.biometrics.gate import require_signing_freshness
from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit, audit_read
from hospital.core.errors import InvalidTransition, NotFound, RuleViolation
from hospital.core.outbox import emit
from hospital.core.retention import RetentionClass, purge_not_before
from hospital.identity.models import Role
from hospital.identity.tokens import Principal
from hospital.institution.service import require_licence_in_force
from hospital.signing.service import DeviceSignature, requested_payload, require_device_signature
from hospital.staff.service import require_clinical_act
from hospital.visits.booking import queries
from hospital.visits.booking.models import Visit, seal_visit_clinical, visit_clinical
from hospital.visits.booking.rules import VisitState
from hospital.visits.encounter.models import MedicalRecord
from hospital.visits.encounter.payloads import emr_record
from hospital.visits.encounter.queries import emr_seal_context, medical_record_of_visit, open_emr
from hospital.visits.encounter.rules import PRESCRIBING_STATES, OnlineEmr, check_emr_complete
from hospital.visits.icd10 import Icd10Code, validate_icd10
from hospital.visits.intake.reference import tables_for
from hospital.visits.intake.rules.eligibility import check_diagnosis_name, check_not_excluded, infectious_flag
from hospital.visits.intake.tables import IntakeTables

__all__ = [
    "EmrInput",
    "emr_value",
    "read_medical_record",
    "sign_off_medical_record",
    "write_medical_record",
]


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
    check_emr_complete(replace(emr_value(content, None), doctor_signature=f"signed off by {principal.user_id}"))
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


def emr_value(content: dict[str, Any], record: MedicalRecord | None) -> OnlineEmr:
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
