"""The transactional outbox: every reportable change records its event for the supervision platform
(SUP-02) in the same transaction as the change. The dispatcher (connectors/supervision) reads it after commit
and delivers at least once; the idempotency key lets the platform drop repeats.
"""

from __future__ import annotations

import enum
import json
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from hospital.core.types import UTCDateTime, utcnow

__all__ = ["OutboxEvent", "OutboxStatus", "emit"]


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    SENT = "sent"
    DEAD = "dead"  # the platform refused the data; kept with its message until fixed and re-queued
    PARKED = "parked"  # no mapper for this event type yet; routed again when one is added
    SKIPPED = "skipped"  # this platform takes no record for it (the reason is in last_error)
    SUPERSEDED = "superseded"  # a later version of the same business record replaced it before it was sent


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"
    __table_args__ = (
        sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),
        sa.Index("ix_outbox_subject_seq", "subject_id", "seq"),
        # The dispatcher's claim walks undelivered events in commit order and stops at its batch: with this
        # partial index a backlog of sent events costs it nothing.
        sa.Index("ix_outbox_undelivered_seq", "seq", postgresql_where=sa.text("status IN ('pending', 'retrying')"),
                 sqlite_where=sa.text("status IN ('pending', 'retrying')")),
    )

    seq: int | None = Field(default=None, primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    event_type: str = Field(index=True)
    subject_type: str
    subject_id: str = Field(index=True)
    version: int = Field(default=1, sa_type=sa.BigInteger)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    idempotency_key: str = Field(unique=True)
    status: str = Field(default=OutboxStatus.PENDING)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = None
    response: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Dispatcher state (connectors/supervision): where the event goes once routed, what it waits for, and the
    # lease of the dispatcher sending it (a crashed dispatcher's lease runs out and another takes the event).
    method: str | None = None
    business_id: str | None = None
    depends_on: list[dict[str, str]] | None = Field(default=None, sa_type=sa.JSON)
    lease_owner: str | None = None
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def emit(
    session: AsyncSession,
    event_type: str,
    *,
    subject_type: str,
    subject_id: object,
    payload: dict[str, Any],
    version: int = 1,
) -> OutboxEvent:
    """Record one event in the caller's transaction. Key = type:subject:version (SUP-02 de-duplication)."""
    event = OutboxEvent(
        event_type=event_type,
        subject_type=subject_type,
        subject_id=str(subject_id),
        version=version,
        payload=json.loads(json.dumps(payload, default=str, ensure_ascii=False)),
        idempotency_key=f"{event_type}:{subject_id}:{version}",
    )
    session.add(event)
    await session.flush()
    return event
