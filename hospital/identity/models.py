"""Users of every role. A log-in name is stored only as a keyed hash (a patient's is a phone number)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import Field

from hospital.core.types import Record, UTCDateTime

__all__ = ["Role", "User"]


class Role(enum.StrEnum):
    PATIENT = "patient"
    DOCTOR = "doctor"
    PHARMACIST = "pharmacist"
    NURSE = "nurse"
    ADMIN = "admin"

    @property
    def is_clinician(self) -> bool:
        return self in (Role.DOCTOR, Role.PHARMACIST, Role.NURSE)


class User(Record, table=True):
    __tablename__ = "user_account"

    role: str = Field(index=True)
    display_name: str
    login_hash: str = Field(unique=True)
    password_hash: str
    is_active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
