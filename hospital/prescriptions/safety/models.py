"""The patient's safety context, versioned (RX-04): one row per version, never updated; the content is sealed
(REC-03: allergies, pregnancy and impairments are health data), bound to its row."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.types import Record, UTCDateTime

__all__ = ["PatientSafetyContext"]


class PatientSafetyContext(Record, table=True):
    __tablename__ = "patient_safety_context"
    __table_args__ = (sa.UniqueConstraint("patient_id", "version", name="uq_safety_context_version"),)

    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True)
    version: int
    visit_id: uuid.UUID | None = Field(default=None, foreign_key="visit.id", index=True)  # recorded in this visit
    recorded_by_user_id: uuid.UUID = Field(foreign_key="user_account.id")
    recorded_by_role: str  # patient | doctor
    confirmed_by_doctor: bool = False  # the doctor confirmed (or corrected) it in `visit_id`
    content_sealed: bytes  # SafetyContext.as_json()
    recorded_at: datetime = Field(sa_type=UTCDateTime)
