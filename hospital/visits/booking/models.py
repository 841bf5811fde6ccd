"""Tables of booking: a doctor's schedules and the visits booked in them.

The visit row is here because booking creates it; the encounter changes its state and fills in the rest
(acceptance, termination, referral), through the state machine in `rules.py`. The guardian's full details are
sealed at rest by the service (REC-03).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.types import Record, UTCDateTime

__all__ = ["Schedule", "Visit"]


class Schedule(Record, table=True):
    """A doctor's published consultation period in one department (REV-06)."""

    doctor_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    department_code: str = Field(index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    capacity: int
    booked: int = 0  # changed only under the row lock / version check with the booking (no double booking)
    modes: list[str] = Field(default_factory=lambda: ["video", "text"], sa_type=sa.JSON)
    # No price of its own: a visit costs its mode's fee as the disclosure publishes it (INS-03, one source).
    cancelled: bool = False
    withdrawn_reason: str | None = None  # 停诊: why the doctor or the administrator withdrew it (REV-06)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1


class Visit(Record, table=True):
    """One follow-up consultation, from booking to completion or termination with referral."""

    schedule_id: uuid.UUID = Field(foreign_key="schedule.id", index=True)
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True)
    patient_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    doctor_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    department_code: str
    mode: str  # video | text
    prior_diagnosis_id: uuid.UUID = Field(foreign_key="prior_diagnosis.id")
    state: str = Field(default="requested", index=True)
    queue_number: int
    version: int = 1
    guardian: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)  # REV-05; the ID number is masked
    guardian_sealed: bytes | None = None  # the guardian's full details (ID number, mobile) for the platform, sealed
    revisit_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # REV-04
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    termination_reason: str | None = None
    referral: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    infectious_flag: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    paused: bool = False  # the live face watch paused the video (FACE-02) until the doctor re-verifies
    # REV-03/REV-04: the doctor recorded a diagnosis that cannot be served online; only termination remains
    stopped: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    name_resolution: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)  # REV-02, at acceptance
    guardian_presence_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # REV-05, at start
    notice: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)  # what the patient is told (停诊, REV-06)
    # INS-03: the published fee of the mode, shown to the patient and accepted by them at booking (payment is a seam)
    fee_cny: str | None = None
    fee_accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
