"""Tables of the encounter: the chat of a visit and its outpatient medical record (REC-01).

The pure rules (rules.py) decide; these rows remember. Chat bodies and the EMR narrative are sealed at rest by
the service (REC-03); each row carries the date it may be purged (REC-02).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Field

from hospital.core.types import Record, UTCDateTime

__all__ = ["ChatMessage", "MedicalRecord"]


class ChatMessage(Record, table=True):
    """A text message within a visit; kept 3 years (REC-02)."""

    __tablename__ = "chat_message"

    visit_id: uuid.UUID = Field(foreign_key="visit.id", index=True)
    sender_user_id: uuid.UUID = Field(foreign_key="user_account.id")
    sender_role: str
    body_sealed: bytes
    purge_not_before: date = Field(index=True)  # moved to the visit's end + 3 years when the visit closes


class MedicalRecord(Record, table=True):
    """The outpatient-format EMR of a visit (REC-01), signed off by the doctor; kept 15 years (REC-02)."""

    __tablename__ = "medical_record"

    visit_id: uuid.UUID = Field(foreign_key="visit.id", unique=True)
    content_sealed: bytes  # the OnlineEmr fields as JSON, sealed; the diagnosis code only there (REC-03)
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    signed_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    signature: str | None = None  # compact JWS over the canonical record (RX-05)
    purge_not_before: date | None = Field(default=None, index=True)  # set at sign-off: + 15 years
    version: int = 1
