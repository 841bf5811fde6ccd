"""The outpatient EMR of a visit (REC-01): written by the visit's doctor while the visit is open, signed off,
then read-only and readable by the patient; kept 15 years from sign-off (REC-02). The content is sealed."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hospital.biometrics.gate import require_signing_freshness
from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import InvalidTransition, NotFound, RuleViolation
from hospital.core.outbox import emit
from hospital.core.retention import RetentionClass, purge_not_before
from hospital.identity.models import Role
from hospital.identity.tokens import Principal
from hospital.institution.service import require_licence_in_force
from hospital.signing.service import sign_document
from hospital.staff.service import require_can_practise
from hospital.visits import queries
from hospital.visits.common import emr_value, open_emr, seal_emr
from hospital.visits.icd10 import validate_icd10
from hospital.visits.intake.reference import tables_for
from hospital.visits.lifecycle import PRESCRIBING_STATES, VisitState
from hospital.visits.models import MedicalRecord, Visit
from hospital.visits.payloads import EMR_SEALED, emr_record
from hospital.visits.records import check_emr_complete

__all__ = ["EmrInput", "read_medical_record", "sign_off_medical_record", "write_medical_record"]


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
    await require_can_practise(session, ctx, doctor_user_id, visit.department_code)
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
    """Create or replace the draft EMR of an open visit; the diagnosis must be a real ICD-10 code."""
    visit = await _open_visit(session, ctx, visit_id, doctor_user_id)
    record = await queries.medical_record_of_visit(session, visit.id, for_update=True)
    _refuse_if_signed(record)
    code = validate_icd10(data.diagnosis_icd10, aliases=tables_for(ctx).legacy_aliases)
    visited_at = visit.started_at or visit.accepted_at
    content = {**{k: v.strip() for k, v in asdict(data).items()}, "diagnosis_icd10": code.code,
               "department_code": visit.department_code, "visited_at": visited_at.isoformat() if visited_at else None}
    sealed = seal_emr(ctx, visit, content)
    if record is None:
        record = MedicalRecord(visit_id=visit.id, content_sealed=sealed, diagnosis_icd10=code.code)
        session.add(record)
    else:
        record.content_sealed, record.diagnosis_icd10 = sealed, code.code
        record.version += 1
        record.touch()
    await session.flush()
    await append_audit(session, actor, "medical_record.written", subject_type="medical_record", subject_id=record.id,
                       rule_id="REC-01", detail={"visit_id": visit.id, "version": record.version,
                                                 "diagnosis_icd10": code.code})
    await session.commit()
    return record


async def sign_off_medical_record(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                                  visit_id: uuid.UUID) -> MedicalRecord:
    """The doctor signs the complete EMR off with a fresh face verification (FACE-03); it becomes read-only,
    readable by the patient, kept 15 years, and is reported (`emr.signed`)."""
    require_signing_freshness(ctx, principal)
    visit = await _open_visit(session, ctx, visit_id, principal.user_id)
    record = await queries.medical_record_of_visit(session, visit.id, for_update=True)
    if record is None:
        raise RuleViolation("REC-01", "write the medical record before signing it off")
    _refuse_if_signed(record)
    content = open_emr(ctx, record)
    # Everything but the signature must be there; the signature is what this sign-off makes.
    check_emr_complete(replace(emr_value(content, None), doctor_signature=f"signed off by {principal.user_id}"))
    record.signed_at = ctx.now()
    record.signed_by_user_id = principal.user_id
    # RX-05: every online diagnosis carries the doctor's e-signature; the JWS covers the whole record, its
    # visit and the face verification that allowed signing (FACE-03), verifiable offline with the CA.
    record.signature = await sign_document(session, ctx, principal.user_id, {
        "document": "outpatient_medical_record", "medical_record_id": str(record.id), "visit_id": str(visit.id),
        "version": record.version + 1, "signed_at": record.signed_at.isoformat(), "record": content,
        "face_verification": {"practice_session_id": str(principal.practice_session_id),
                              "verified_at": principal.face_verified_at.isoformat()
                              if principal.face_verified_at else None}})
    record.purge_not_before = purge_not_before(RetentionClass.MEDICAL_RECORD, ctx.today())
    record.version += 1
    record.touch()
    await session.flush()
    await append_audit(session, actor, "medical_record.signed", subject_type="medical_record", subject_id=record.id,
                       rule_id="REC-01", detail={"visit_id": visit.id, "version": record.version,
                                                 "purge_not_before": record.purge_not_before})
    await emit(session, "emr.signed", subject_type="medical_record", subject_id=record.id, version=record.version,
               payload=await emr_record(session, ctx, visit, record), seal=EMR_SEALED, cipher=ctx.cipher)
    await session.commit()
    return record


async def read_medical_record(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID, role: str,
                              visit_id: uuid.UUID) -> dict[str, Any]:
    """The visit's EMR for its doctor (draft or signed) or its patient (signed only); NotFound otherwise."""
    visit = await queries.visit_of_participant(session, visit_id, user_id, role)
    record = await queries.medical_record_of_visit(session, visit.id)
    if record is None or (role == Role.PATIENT and record.signed_at is None):
        raise NotFound("this visit has no signed medical record yet")
    return {"medical_record_id": str(record.id), "visit_id": str(visit.id), **open_emr(ctx, record),
            "signed": record.signed_at is not None,
            "signed_at": record.signed_at.isoformat() if record.signed_at else None,
            "signed_by_user_id": str(record.signed_by_user_id) if record.signed_by_user_id else None,
            "signature": record.signature, "version": record.version, "retention_class": RetentionClass.MEDICAL_RECORD.value,
            "purge_not_before": record.purge_not_before.isoformat() if record.purge_not_before else None}
