"""The transactional outbox: every reportable change records its event for the supervision platform
(SUP-02) in the same transaction as the change. The dispatcher (connectors/supervision) reads it after commit
and delivers at least once; the idempotency key lets the platform drop repeats.

Every payload follows its event type's contract (hospital/contracts, `EVENT_PAYLOADS`): `emit` takes the
Payload Struct of its event type, nothing else, and refuses an unknown event type, another type's Payload, a
plain dict or a Payload that breaks its contract with a `ContractViolation` before anything is added to the
session.

What identifies a person or describes their health (ID numbers, names of patients, diagnoses, narrative, signed
documents) is not kept in the outbox in clear (REC-03): the fields a Payload names in `SEALED`, the one list of
them, move into the payload's `sealed` part (AES-256-GCM under the field key, so `emit` needs `cipher`);
`open_payload` merges them back.
"""

from __future__ import annotations

import base64
import enum
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from hospital.contracts import Payload, conform, to_stored
from hospital.core.crypto import FieldCipher
from hospital.core.errors import ContractViolation
from hospital.core.types import UTCDateTime, utcnow

__all__ = ["SEALED_CONTEXT", "SEALED_KEY", "OutboxEvent", "OutboxStatus", "emit", "open_payload", "stored_payload"]

SEALED_KEY = "sealed"  # the payload key holding the sealed part
SEALED_CONTEXT = "outbox.payload"  # the cipher's associated data for it: a sealed part opens nowhere else


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
    payload: Payload,
    version: int = 1,
    cipher: FieldCipher | None = None,
) -> OutboxEvent:
    """Record one event in the caller's transaction. Key = type:subject:version (SUP-02 de-duplication).

    `payload` is its event type's Payload, checked field by field first (a ContractViolation otherwise, nothing
    added); the fields it names in `SEALED` are stored sealed with `cipher` (REC-03)."""
    if not isinstance(payload, Payload):
        raise ContractViolation(f"{event_type} is emitted as its Payload Struct, not {type(payload).__name__}",
                                event_type=event_type)
    event = OutboxEvent(
        event_type=event_type,
        subject_type=subject_type,
        subject_id=str(subject_id),
        version=version,
        payload=stored_payload(conform(event_type, payload), cipher),
        idempotency_key=f"{event_type}:{subject_id}:{version}",
    )
    session.add(event)
    await session.flush()
    return event


def stored_payload(payload: Payload, cipher: FieldCipher | None = None) -> dict[str, Any]:
    """The payload as the outbox stores it: JSON values, the fields its `SEALED` names moved into the sealed part."""
    clear: dict[str, Any] = to_stored(payload)
    sensitive = {key: clear.pop(key) for key in type(payload).SEALED if key in clear}
    if sensitive:
        if cipher is None:
            raise ValueError(f"sealing {sorted(sensitive)} needs the field cipher")
        sealed = cipher.seal_text(json.dumps(sensitive, ensure_ascii=False), context=SEALED_CONTEXT)
        clear[SEALED_KEY] = base64.b64encode(sealed).decode("ascii")
    return clear


def open_payload(payload: Mapping[str, Any], cipher: FieldCipher) -> dict[str, Any]:
    """The whole payload: the clear keys with the sealed part (if any) opened and merged in."""
    merged = {key: value for key, value in payload.items() if key != SEALED_KEY}
    if payload.get(SEALED_KEY):
        opened = json.loads(cipher.open_text(base64.b64decode(str(payload[SEALED_KEY])), context=SEALED_CONTEXT))
        merged.update(opened)
    return merged
