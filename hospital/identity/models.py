"""Users of every role. A log-in name is stored only as a keyed hash (a patient's is a phone number)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from hospital.core.types import Record, UTCDateTime

__all__ = ["AuthSession", "LoginAttemptWindow", "Role", "User"]


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


class AuthSession(Record, table=True):
    """One log-in (SEC-01): every token carries its id and its number in the session, and is good only while the
    session is open and its number is at least `oldest_valid`. Renewing replaces every token issued before (it sets
    `oldest_valid` to the new token's number); a face verification adds a token with the practice session beside
    the one it was made with (that one still expires with its TTL or the next renewal); a log-out, a lock, a
    suspension or a password change ends the session (`ended_at`), and every request sees it at once."""

    __tablename__ = "auth_session"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    authenticated_at: datetime = Field(sa_type=UTCDateTime)  # the password log-in it began with
    issued: int = 0  # the number of the latest token issued in the session
    oldest_valid: int = 0  # tokens numbered below this are refused (a renewal replaced them)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = None


class LoginAttemptWindow(SQLModel, table=True):
    """Log-in attempts from one address in one fixed window (SEC-01 rate limit). In the database, not in a
    replica's memory, so every replica counts against the same allowance; one row per address and window, bumped
    by one atomic upsert. The address is kept only as a keyed hash."""

    __tablename__ = "login_attempt_window"

    client_hash: str = Field(primary_key=True)
    window_number: int = Field(primary_key=True, index=True)  # the window's number: epoch seconds // window length
    attempts: int = 0
