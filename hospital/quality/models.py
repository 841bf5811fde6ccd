"""Ratings, complaints and adverse-event reports."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Field

from hospital.core.types import Record, UTCDateTime

__all__ = ["AdverseEvent", "Complaint", "Rating"]


class Rating(Record, table=True):
    visit_id: uuid.UUID = Field(foreign_key="visit.id", unique=True)
    patient_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    score: int
    comment: str = ""


class Complaint(Record, table=True):
    complainant_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    visit_id: uuid.UUID | None = Field(default=None, foreign_key="visit.id")
    category: str
    description: str
    status: str = "open"
    response: str | None = None
    handled_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1


class AdverseEvent(Record, table=True):
    __tablename__ = "adverse_event"

    reporter_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    reporter_role: str
    visit_id: uuid.UUID | None = Field(default=None, foreign_key="visit.id")
    kind: str  # medical | drug
    severity: str
    occurred_on: date
    description: str
    drug_code: str | None = None
