"""Tables of intake: the patient's consent acceptances (PAT-02) and prior diagnoses with their documents (REV-01).

The pure rules (rules.py) decide; these rows remember. The document itself is in the blob store, sealed. So is
what the rows say of the patient's health or family (REC-03): the prior diagnosis's code, name and institution,
and the guardian who consented, each sealed with the field key and bound to its row; nothing queries them.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.crypto import FieldCipher
from hospital.core.types import Record, UTCDateTime

__all__ = ["ConsentRecord", "PriorDiagnosisContent", "PriorDiagnosisOnFile", "PriorDiagnosisRecord",
           "consent_guardian", "open_prior", "seal_consent_guardian", "sealed_prior"]


class ConsentRecord(Record, table=True):
    """A patient's acceptance of one version of the informed-consent text (PAT-02)."""

    __tablename__ = "consent_record"
    __table_args__ = (sa.UniqueConstraint("patient_id", "version"),)

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True)
    version: str
    text_sha256: str
    accepted_at: datetime = Field(sa_type=UTCDateTime)
    client_address: str
    # A minor's consent is given by the guardian (民法典 第十九条, 第二十条): name, relationship, masked ID number,
    # sealed (REC-03); an adult's own acceptance seals null, so the column does not tell a minor's apart
    accepted_by_guardian_sealed: bytes | None = None


class PriorDiagnosisRecord(Record, table=True):
    """A diagnosis made at a physical institution, with its document in the blob store (REV-01, REV-02)."""

    __tablename__ = "prior_diagnosis"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True)
    content_sealed: bytes  # PriorDiagnosisContent as JSON (REC-03): code, name, institution, the name's finding
    document_type: str  # outpatient_record | inpatient_record | discharge_summary | diagnosis_certificate
    institution_kind: str = "physical"  # REV-01: physical only; stored as filed
    diagnosed_on: date
    document_sha256: str = Field(foreign_key="blob.sha256")
    document_content_type: str
    # Withdrawn by the patient while no visit was booked on it (REV-01): kept (REC-02), never offered again
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class PriorDiagnosisContent:
    """What a prior diagnosis says of the patient's health, sealed in `PriorDiagnosisRecord.content_sealed`."""

    icd10_code: str
    icd10_category: str
    diagnosis_name: str
    institution_name: str
    institution_registration_number: str = ""  # 医疗机构登记号, format-checked at filing (REV-01)
    name_finding: str | None = None  # REV-02: the name disagrees with the code's title; the doctor resolves it


@dataclass(frozen=True, slots=True)
class PriorDiagnosisOnFile:
    """A prior diagnosis opened: the row's columns and its sealed content, under the row's own names."""

    id: uuid.UUID
    patient_id: uuid.UUID
    created_at: datetime
    document_type: str
    institution_kind: str
    diagnosed_on: date
    document_sha256: str
    document_content_type: str
    icd10_code: str
    icd10_category: str
    diagnosis_name: str
    institution_name: str
    institution_registration_number: str
    name_finding: str | None
    withdrawn_at: datetime | None = None


def _prior_context(prior_id: uuid.UUID) -> str:
    return f"prior_diagnosis.content:{prior_id}"


def sealed_prior(cipher: FieldCipher, content: PriorDiagnosisContent, **columns: Any) -> PriorDiagnosisRecord:
    """A new row with its content sealed under its own id (a sealed value moved to another row fails to open)."""
    prior_id = columns.pop("id", None) or uuid.uuid4()
    return PriorDiagnosisRecord(id=prior_id, content_sealed=cipher.seal_json(asdict(content),
                                                                             context=_prior_context(prior_id)),
                                **columns)


def open_prior(cipher: FieldCipher, record: PriorDiagnosisRecord) -> PriorDiagnosisOnFile:
    content = PriorDiagnosisContent(**cipher.open_json(record.content_sealed, context=_prior_context(record.id)))
    return PriorDiagnosisOnFile(
        id=record.id, patient_id=record.patient_id, created_at=record.created_at, document_type=record.document_type,
        institution_kind=record.institution_kind, diagnosed_on=record.diagnosed_on,
        document_sha256=record.document_sha256, document_content_type=record.document_content_type,
        withdrawn_at=record.withdrawn_at, **asdict(content))


def _consent_context(record_id: uuid.UUID) -> str:
    return f"consent_record.accepted_by_guardian:{record_id}"


def seal_consent_guardian(cipher: FieldCipher, record: ConsentRecord, guardian: dict[str, Any] | None) -> None:
    record.accepted_by_guardian_sealed = cipher.seal_json(guardian, context=_consent_context(record.id))


def consent_guardian(cipher: FieldCipher, record: ConsentRecord) -> dict[str, Any] | None:
    if record.accepted_by_guardian_sealed is None:
        return None
    opened: dict[str, Any] | None = cipher.open_json(record.accepted_by_guardian_sealed,
                                                    context=_consent_context(record.id))
    return opened
