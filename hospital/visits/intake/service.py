"""Intake use cases: informed consent (PAT-02) and the prior diagnoses a patient files (REV-01, REV-02).
What a patient reads of them (their acceptances, their diagnoses' eligibility) is in `views`.

A patient accepts the current consent version before anything else; a prior diagnosis is filed with its
document, which is type-checked from its bytes and kept encrypted in the blob store for 15 years (REC-02).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.blobs import store_blob
from hospital.core.errors import InvalidInput, RuleViolation
from hospital.core.retention import RetentionClass
from hospital.institution.models import Department
from hospital.institution.reference import load_disclosure_settings
from hospital.institution.service import current_licence, require_licence_in_force
from hospital.patients.models import Patient
from hospital.patients.service import masked
from hospital.staff.models import StaffMember
from hospital.staff.rules import check_can_practise
from hospital.staff.service import list_staff, standing_of
from hospital.visits.icd10 import validate_icd10
from hospital.visits.intake import queries
from hospital.visits.intake.consent_texts import CONSENT_DIR, load_consent, render_consent
from hospital.visits.intake.models import (
    ConsentRecord,
    PriorDiagnosisContent,
    PriorDiagnosisOnFile,
    PriorDiagnosisRecord,
    seal_consent_guardian,
    sealed_prior,
)
from hospital.visits.intake.reference import tables_for
from hospital.visits.intake.rules.eligibility import (
    ConsentAcceptance,
    Guardian,
    check_consent,
    check_consent_giver,
    check_diagnosis_name,
    check_not_excluded,
)
from hospital.visits.intake.rules.evidence import (
    MAX_DOCUMENT_BYTES,
    InstitutionKind,
    PriorDiagnosis,
    check_institution_registration,
    check_prior_diagnosis_on_file,
    sniff_document,
)

__all__ = [
    "ConsentView",
    "PriorDiagnosisInput",
    "accept_consent",
    "current_consent",
    "file_prior_diagnosis",
    "prior_as_rule_value",
    "require_current_consent",
]


@dataclass(frozen=True, slots=True)
class ConsentView:
    """The current consent as shown: the Chinese text that is accepted, its English rendering, and the
    SHA-256 of the rendered Chinese text, which the acceptance records."""

    version: str
    zh: str
    en: str
    text_sha256: str


@dataclass(frozen=True, slots=True)
class PriorDiagnosisInput:
    icd10_code: str
    diagnosis_name: str
    document_type: str
    institution_name: str
    diagnosed_on: date
    institution_kind: str = InstitutionKind.PHYSICAL.value
    institution_registration_number: str = ""  # 医疗机构登记号 (REV-01), required


def _consent_dir(ctx: HospitalContext) -> Path:
    return Path(ctx.consent_dir or CONSENT_DIR)  # another directory of consent texts (tests, a hospital's own)


async def current_consent(session: AsyncSession, ctx: HospitalContext) -> ConsentView:
    """The current version rendered with the hospital's licence details (INS-01 must be in force)."""
    await require_licence_in_force(session, ctx)
    licence = await current_licence(session)
    assert licence is not None  # require_licence_in_force refused otherwise
    values = {"hospital_name": licence.internet_hospital_name, "licence_number": licence.licence_number,
              # One complaint line: the one the disclosure page publishes (INS-03), from the hospital's own file.
              "complaint_phone": load_disclosure_settings(ctx.settings.data_dir,
                                                                 fallback=not ctx.settings.is_production).complaints.phone}
    directory = _consent_dir(ctx)
    zh = load_consent(None, "zh", directory)
    en = load_consent(zh.version, "en", directory)
    doctors = await _doctor_information(session, ctx)
    text = render_consent(zh, {**values, "doctor_information": doctors["zh"]})
    return ConsentView(zh.version, text, render_consent(en, {**values, "doctor_information": doctors["en"]}),
                       hashlib.sha256(text.encode()).hexdigest())


async def _doctor_information(session: AsyncSession, ctx: HospitalContext) -> dict[str, str]:
    """PD 14 (PAT-02): the doctors practising online now (not suspended, credentials in force, STAFF-03), each
    with name, title, 执业类别/范围, departments and 医师执业证书编码, one line per doctor, in Chinese and English."""
    today = ctx.today()
    doctors = [m for m in await list_staff(session) if m.kind == "doctor" and _practising(m, today)]
    names = {d.code: d.name for d in (await session.execute(select(Department))).scalars().all()}
    if not doctors:
        return {"zh": "（暂无在线执业的医师）", "en": "(no doctor practises online at present)"}
    zh, en = [], []
    for m in doctors:
        number = next((str(c.get("number")) for c in m.credentials if c.get("kind") == "physician_practice"), "—")
        departments = "、".join(f"{code} {names.get(code, code)}" for code in m.departments)
        zh.append(f"- {m.real_name}，{m.title}，{m.practice_category} {m.practice_scope}，科室：{departments}，"
                  f"医师执业证书编码 {number}")
        en.append(f"- {m.real_name}, {m.title}, {m.practice_category} {m.practice_scope}, departments: "
                  f"{', '.join(m.departments)}, physician practice certificate No. {number}")
    return {"zh": "\n".join(zh), "en": "\n".join(en)}


def _practising(member: StaffMember, today: date) -> bool:
    try:
        check_can_practise(standing_of(member), today)
    except RuleViolation:  # suspended, or a credential expired: not presented as a doctor who may see you
        return False
    return True


async def require_current_consent(session: AsyncSession, ctx: HospitalContext, patient: Patient) -> ConsentRecord:
    """PAT-02: the patient accepted the current version; a new version needs a new acceptance."""
    version = (await current_consent(session, ctx)).version
    record = await queries.consent_of_patient(session, patient.id, version)
    acceptance = None if record is None else ConsentAcceptance(record.version, record.accepted_at, record.client_address)
    if acceptance is None:  # name the older version the patient did accept, if any
        older = await queries.latest_consent_of_patient(session, patient.id)
        if older is not None:
            acceptance = ConsentAcceptance(older.version, older.accepted_at, older.client_address)
    check_consent(acceptance, current_version=version)
    assert record is not None
    return record


async def accept_consent(session: AsyncSession, ctx: HospitalContext, actor: Actor, patient_user_id: uuid.UUID,
                         version: str, text_sha256: str | None = None, guardian: Guardian | None = None) -> ConsentRecord:
    """Record the patient's acceptance of `version`, which must be the current text; accepting it again
    returns the first acceptance unchanged. For a minor the guardian accepts, named in the record (PAT-02)."""
    view = await current_consent(session, ctx)
    patient = await queries.patient_of_user(session, patient_user_id)
    if version != view.version:
        raise RuleViolation("PAT-02", f"consent {version} is not the current text; accept {view.version}",
                            current_version=view.version)
    if text_sha256 is not None and text_sha256 != view.text_sha256:
        raise RuleViolation("PAT-02", "the text accepted is not the current text of "
                                      f"{view.version}: reload it and accept again", current_version=view.version)
    if not actor.client_address.strip():
        raise InvalidInput("the acceptance must record the client's address")
    giver = check_consent_giver(patient.birth_date, ctx.today(), guardian)
    existing = await queries.consent_of_patient(session, patient.id, view.version)
    if existing is not None:
        return existing
    by_guardian = None if giver is None else {
        "name": giver.name.strip(), "relationship": giver.relationship,
        "id_number": masked(giver.id_number.strip().upper(), 6, 4),
        "id_number_hash": ctx.cipher.keyed_hash(giver.id_number.strip().upper(), context="id_number")}
    record = ConsentRecord(patient_id=patient.id, version=view.version, text_sha256=view.text_sha256,
                           accepted_at=ctx.now(), client_address=actor.client_address)
    seal_consent_guardian(ctx.cipher, record, by_guardian)  # REC-03: the guardian's name is not kept in clear
    session.add(record)
    await session.flush()
    await append_audit(session, actor, "consent.accepted", subject_type="patient", subject_id=patient.id,
                       rule_id="PAT-02", detail={"version": view.version, "text_sha256": view.text_sha256,
                                                 "client_address": actor.client_address,
                                                 "accepted_by_guardian": {k: v for k, v in (by_guardian or {}).items()
                                                                          if k != "id_number_hash"} or None},
                       cipher=ctx.cipher)
    await session.commit()
    return record


def prior_as_rule_value(record: PriorDiagnosisOnFile) -> PriorDiagnosis:
    try:
        kind = InstitutionKind(record.institution_kind)
    except ValueError:  # a kind no longer known is not a physical institution
        kind = InstitutionKind.INTERNET_HOSPITAL
    return PriorDiagnosis(record.icd10_code, record.diagnosis_name, record.document_type, record.institution_name,
                          record.diagnosed_on, record.document_sha256, kind, record.institution_registration_number)


async def file_prior_diagnosis(session: AsyncSession, ctx: HospitalContext, actor: Actor, patient_user_id: uuid.UUID,
                               data: PriorDiagnosisInput, document: bytes,
                               content_type: str | None) -> PriorDiagnosisRecord:
    """REV-01/REV-02/REV-03: keep a diagnosis made at a physical institution (named, with its 医疗机构登记号,
    not online) between the patient's birth and today, with its document; a condition refused online (REV-03),
    by its code or by its name, is refused here already. A name that disagrees with its code's title is kept
    with the finding, which the doctor resolves at acceptance. Whether it can found a visit (window,
    department) is decided at booking, on the visit's date."""
    await require_licence_in_force(session, ctx)
    patient = await queries.patient_of_user(session, patient_user_id)
    await require_current_consent(session, ctx, patient)
    tables = tables_for(ctx)
    try:
        institution_kind = InstitutionKind(data.institution_kind)
    except ValueError:
        raise InvalidInput(f"institution_kind must be one of {[k.value for k in InstitutionKind]}") from None
    code = validate_icd10(data.icd10_code, aliases=tables.legacy_aliases)
    registration = check_institution_registration(data.institution_registration_number)
    check_prior_diagnosis_on_file(PriorDiagnosis(
        code.code, data.diagnosis_name, data.document_type, data.institution_name, data.diagnosed_on,
        hashlib.sha256(document).hexdigest() if document else None, institution_kind, registration),
        today=ctx.today(), birth_date=patient.birth_date)
    check_not_excluded(code, tables=tables)
    name = check_diagnosis_name(code, data.diagnosis_name.strip(), tables=tables)
    finding = name.finding
    kind = sniff_document(document, content_type or "", max_bytes=min(MAX_DOCUMENT_BYTES, ctx.settings.max_upload_bytes))
    blob = await store_blob(session, ctx.blob_store(), document, content_type=kind.value,
                            retention=RetentionClass.MEDICAL_RECORD, closed_on=ctx.today())
    content = PriorDiagnosisContent(
        icd10_code=code.code, icd10_category=code.category, diagnosis_name=data.diagnosis_name.strip(),
        institution_name=data.institution_name.strip(), institution_registration_number=registration,
        name_finding=finding.message if finding else None)
    record = sealed_prior(  # REC-03: code, name and institution sealed at rest
        ctx.cipher, content, patient_id=patient.id, document_type=data.document_type,
        institution_kind=institution_kind.value, diagnosed_on=data.diagnosed_on, document_sha256=blob.sha256,
        document_content_type=kind.value)
    session.add(record)
    await session.flush()
    await append_audit(session, actor, "prior_diagnosis.filed", subject_type="prior_diagnosis", subject_id=record.id,
                       rule_id="REV-01", detail={"icd10_code": code.code, "document_type": data.document_type,
                                                 "document_sha256": blob.sha256, "size": len(document),
                                                 "institution_registration_number": registration,
                                                 "name_finding": content.name_finding},
                       cipher=ctx.cipher)
    await session.commit()
    return record
