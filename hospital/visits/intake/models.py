"""Tables of intake: the patient's consent acceptances (PAT-02) and prior diagnoses with their documents (REV-01).

The pure rules (rules.py) decide; these rows remember. The document itself is in the blob store, sealed.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.types import Record, UTCDateTime

__all__ = ["ConsentRecord", "PriorDiagnosisRecord"]


class ConsentRecord(Record, table=True):
    """A patient's acceptance of one version of the informed-consent text (PAT-02)."""

    __tablename__ = "consent_record"
    __table_args__ = (sa.UniqueConstraint("patient_id", "version"),)

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True)
    version: str
    text_sha256: str
    accepted_at: datetime = Field(sa_type=UTCDateTime)
    client_address: str
    # A minor's consent is given by the guardian (民法典 第十九条, 第二十条): name, relationship, masked ID number
    accepted_by_guardian: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


class PriorDiagnosisRecord(Record, table=True):
    """A diagnosis made at a physical institution, with its document in the blob store (REV-01, REV-02)."""

    __tablename__ = "prior_diagnosis"

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True)
    icd10_code: str
    icd10_category: str
    diagnosis_name: str
    document_type: str  # outpatient_record | inpatient_record | discharge_summary | diagnosis_certificate
    institution_name: str
    institution_kind: str = "physical"  # REV-01: physical only; stored as filed
    institution_registration_number: str = ""  # 医疗机构登记号, format-checked at filing (REV-01)
    diagnosed_on: date
    document_sha256: str = Field(foreign_key="blob.sha256")
    document_content_type: str
    name_finding: str | None = None  # REV-02: the name disagrees with the code's title; the doctor resolves it
    # Withdrawn by the patient while no visit was booked on it (REV-01): kept (REC-02), never offered again
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
