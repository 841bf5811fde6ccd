"""The audit trail (AUD-01): append-only, hash-chained, written in the transaction of the change it records.

Each entry stores the SHA-256 of the previous entry and its own hash over a canonical rendering of its fields,
so one edited, inserted or deleted row breaks the chain at that point; `verify_chain` names the first broken
entry. `append_audit` only builds the entry; the transaction's entries are chained just before it commits
(`ChainedSession`, the session class `hospital.db.session_factory` gives every session): the chain lock (SQLite:
the transaction is IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock) is taken there, so it covers the
audit insert and the commit, not the rest of the use case, and the chain never forks.

On PostgreSQL the table is append-only for everyone who does not switch triggers off (migration
0013_audit_sessions_chain): UPDATE, DELETE and TRUNCATE fail, except the deletion of entries past their retention
(15 years) through `purge_expired`, which is itself audited (`audit.purged`, naming the last entry removed and its
hash, so the walk starts from there). The tail is anchored outside the database by signed checkpoints
(`hospital.core.audit_anchor`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import Field, SQLModel, select

from hospital.core.crypto import FieldCipher
from hospital.core.errors import ContractViolation
from hospital.core.types import UTCDateTime, utcnow

__all__ = [
    "AUDIT_RETENTION_YEARS",
    "GENESIS_HASH",
    "SEALED_DETAIL",
    "Actor",
    "AuditEntry",
    "ChainBreak",
    "ChainWalk",
    "ChainedSession",
    "append_audit",
    "audit_read",
    "chained_session_class",
    "entry_hash",
    "open_detail",
    "purge_expired",
    "verify_chain",
    "walk_chain",
]

GENESIS_HASH = "0" * 64
# Clinical details an audit entry may carry (REC-03): sealed like ID numbers, under the field key, into
# detail["sealed"]; `append_audit` refuses them in clear (a new call site that forgets the cipher fails at once).
SEALED_DETAIL = frozenset({"icd10_code", "diagnosis_icd10", "diagnosis_name", "suspected_icd10", "infectious_flag",
                           "guardian", "guardian_name", "referral", "note", "findings", "prior_institution",
                           "accepted_by_guardian", "institution_registration_number", "name_finding",
                           "name_resolution", "stopped", "termination_reason"})
SEALED_DETAIL_CONTEXT = "audit.detail"
AUDIT_RETENTION_YEARS = 15  # the trail is kept as long as the longest record it traces (core.retention, AUD-01)
_AUDIT_LOCK_KEY = 0x4155_4449_5430_31  # "AUDIT01"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user (with role) or the system itself (jobs, the connector)."""

    user_id: uuid.UUID | None
    role: str
    request_id: str = ""
    client_address: str = ""

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        return cls(user_id=None, role=what)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    # SEC-02 scans read one kind of act over a recent window (reads of patient records, failed log-ins).
    __table_args__ = (sa.Index("ix_audit_entry_action_at", "action", "at"),)

    seq: int | None = Field(default=None, primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    actor_role: str
    action: str = Field(index=True)
    subject_type: str
    subject_id: str = Field(index=True)
    rule_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    request_id: str = ""
    client_address: str = ""
    prev_hash: str
    entry_hash: str = Field(unique=True)


def _canonical(entry: AuditEntry) -> bytes:
    fields = {
        "id": str(entry.id),
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "subject_type": entry.subject_type,
        "subject_id": entry.subject_id,
        "rule_id": entry.rule_id,
        "detail": entry.detail,
        "request_id": entry.request_id,
        "client_address": entry.client_address,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


class ChainedSession(Session):
    """The sync session under every hospital `AsyncSession` (`hospital.db.session_factory`): the audit entries
    appended in its transaction are chained at commit (`chained_session_class` registers the hooks)."""


_PENDING = "hospital.audit.pending"  # session.info: the transaction's entries, in the order they were appended


def chained_session_class() -> type[ChainedSession]:
    """Register the chaining hooks on `ChainedSession` (once; called by `hospital.db.session_factory`, which every
    entry point opens its sessions with) and return the class."""
    if not sa.event.contains(ChainedSession, "before_commit", _chain_pending):
        sa.event.listen(ChainedSession, "before_commit", _chain_pending)
        sa.event.listen(ChainedSession, "after_transaction_end", _forget_pending)
    return ChainedSession


def _chain_pending(session: Session) -> None:
    """Chain and insert the transaction's entries, the last statements before COMMIT (AUD-01).

    The use case's own writes are flushed first, outside the lock; then the lock, the chain's tail, and the
    entries in the order they were appended, each inserted alone so `seq` follows chain order. `at` is stamped
    here, never earlier than the tail's, so `at` never decreases along the chain (the purge cuts by `at`)."""
    pending: list[AuditEntry] = session.info.pop(_PENDING, None) or []
    if not pending:
        return
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
    tail = session.execute(select(AuditEntry.entry_hash, AuditEntry.at)  # type: ignore[call-overload]
                           .order_by(AuditEntry.seq.desc()).limit(1)).first()  # type: ignore[union-attr]
    previous, floor = (tail.entry_hash, tail.at) if tail is not None else (GENESIS_HASH, None)
    for entry in pending:
        now = utcnow()
        entry.at = now if floor is None else max(now, floor)
        entry.prev_hash = previous
        entry.entry_hash = entry_hash(entry)
        session.add(entry)
        session.flush()
        previous, floor = entry.entry_hash, entry.at


def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ends without committing (rolled back, closed) chains nothing: no entry, no gap."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


async def append_audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    subject_type: str,
    subject_id: object,
    detail: dict[str, Any] | None = None,
    rule_id: str | None = None,
    cipher: FieldCipher | None = None,
) -> AuditEntry:
    """Add one entry to the session's transaction; the caller's commit chains it and makes it durable (`seq`,
    `prev_hash`, `entry_hash` and `at` are set then). Clinical details (`SEALED_DETAIL`) are sealed with `cipher`
    into detail["sealed"] (`open_detail` reads them back)."""
    if not isinstance(session.sync_session, ChainedSession) or not sa.event.contains(
            ChainedSession, "before_commit", _chain_pending):
        raise ContractViolation("audit entries are chained at commit: open the session with "
                                "hospital.db.session_factory (AUD-01)")
    detail = _seal_detail(detail or {}, cipher)
    await session.connection()  # the transaction the entry belongs to has begun (its end forgets the entry)
    entry = AuditEntry(
        actor_id=actor.user_id,
        actor_role=actor.role,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        rule_id=rule_id,
        detail=detail,
        request_id=actor.request_id,
        client_address=actor.client_address,
        prev_hash="",
        entry_hash="",
    )
    session.info.setdefault(_PENDING, []).append(entry)
    return entry


def _seal_detail(detail: dict[str, Any], cipher: FieldCipher | None) -> dict[str, Any]:
    plain = json.loads(json.dumps(detail, default=str, ensure_ascii=False))
    sensitive = {k: plain.pop(k) for k in sorted(SEALED_DETAIL & plain.keys())}
    if not sensitive:
        return dict(plain)
    if cipher is None:
        raise ContractViolation(f"audit detail {sorted(sensitive)} is clinical and must be sealed: pass the cipher "
                                "(REC-03)")
    sealed = cipher.seal_text(json.dumps(sensitive, ensure_ascii=False, sort_keys=True), context=SEALED_DETAIL_CONTEXT)
    return {**plain, "sealed": base64.b64encode(sealed).decode("ascii"), "sealed_fields": sorted(sensitive)}


def open_detail(entry: AuditEntry, cipher: FieldCipher) -> dict[str, Any]:
    """An entry's whole detail, its sealed clinical part opened with the field key."""
    detail = {k: v for k, v in entry.detail.items() if k not in ("sealed", "sealed_fields")}
    if "sealed" in entry.detail:
        detail.update(json.loads(cipher.open_text(base64.b64decode(entry.detail["sealed"]), context=SEALED_DETAIL_CONTEXT)))
    return detail


async def audit_read(session: AsyncSession, actor: Actor, action: str, *, subject_type: str, records: Iterable[object],
                     patients: Iterable[object], rule_id: str | None = "SEC-02") -> AuditEntry | None:
    """Record a read of patient data and commit it: one entry per request, however many records a list holds,
    naming the records and their patients (the user accounts the SEC-02 bulk-read detector counts). A read that
    found nothing writes nothing. The subject is the one record read, or the list's first record."""
    read = sorted({str(r) for r in records})
    if not read:
        return None
    entry = await append_audit(session, actor, action, subject_type=subject_type, subject_id=read[0], rule_id=rule_id,
                               detail={"records": read, "patients": sorted({str(p) for p in patients})})
    await session.commit()
    return entry


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainWalk:
    """What one walk found: entries checked, the breaks (in order), and where it ended (to resume from)."""

    checked: int
    breaks: tuple[ChainBreak, ...]
    last_seq: int
    last_hash: str


async def walk_chain(session: AsyncSession, *, after_seq: int = 0, previous_hash: str = GENESIS_HASH,
                     stop_at_first: bool = False, max_breaks: int = 1000, batch: int = 2000) -> ChainWalk:
    """Walk the chain from `after_seq` (whose hash is `previous_hash`) to its end.

    Past a break the walk carries on from the broken entry's stored hash, so every later edit or deletion is
    found too (up to `max_breaks`), and a walk can resume where the last one ended (SEC-02 scans)."""
    previous, last_seq, checked = previous_hash, after_seq, 0
    if after_seq == 0 and previous_hash == GENESIS_HASH:
        previous = await _start_after_purge(session)
    breaks: list[ChainBreak] = []
    while True:
        rows = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch)  # type: ignore[operator,arg-type]
            )
        ).scalars().all()
        if not rows:
            return ChainWalk(checked, tuple(breaks), last_seq, previous)
        for entry in rows:
            assert entry.seq is not None
            reason = None
            if entry.prev_hash != previous:
                reason = ("prev_hash does not match the entry before it "
                          "(an entry was deleted, inserted or edited before this one)")
            elif entry_hash(entry) != entry.entry_hash:
                reason = "entry content does not match its hash (edited)"
            if reason is not None:
                if len(breaks) < max_breaks:
                    breaks.append(ChainBreak(entry.seq, reason))
                if stop_at_first:
                    return ChainWalk(checked, tuple(breaks), last_seq, previous)
            previous = entry.entry_hash
            last_seq = entry.seq
            checked += 1
            session.expunge(entry)  # bounded memory, and nothing else the caller holds is detached


async def _start_after_purge(session: AsyncSession) -> str:
    """Where the walk of the whole chain starts: the genesis, or, when expired entries were purged, the hash of the
    last one removed, as the audited purge recorded it (so a purge is not a break, and a deletion that no purge
    recorded still is)."""
    first = (await session.execute(select(AuditEntry.prev_hash).order_by(AuditEntry.seq).limit(1))).scalar_one_or_none()  # type: ignore[arg-type]
    if first is None or first == GENESIS_HASH:
        return GENESIS_HASH
    purges = (await session.execute(select(AuditEntry.detail).where(AuditEntry.action == "audit.purged"))).scalars()
    return first if any(p.get("through_hash") == first for p in purges) else GENESIS_HASH


async def purge_expired(session: AsyncSession, actor: Actor, now: datetime) -> int:
    """Delete the entries older than the trail's retention, in the caller's transaction, recording the purge first
    (`audit.purged`: the cut-off, the last entry removed and its hash). On PostgreSQL the deletion goes through the
    one function the append-only trigger lets delete, and only entries past retention."""
    try:
        cutoff = now.replace(year=now.year - AUDIT_RETENTION_YEARS)
    except ValueError:  # 29 February
        cutoff = now.replace(year=now.year - AUDIT_RETENTION_YEARS, day=28)
    cutoff = cutoff.astimezone(UTC)
    through = (await session.execute(select(AuditEntry.seq, AuditEntry.entry_hash).where(AuditEntry.at < cutoff)  # type: ignore[arg-type,operator]
                                     .order_by(AuditEntry.seq.desc()).limit(1))).first()  # type: ignore[union-attr]
    if through is None:
        return 0
    count = (await session.execute(select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.at < cutoff))  # type: ignore[arg-type,operator]
             ).scalar_one()
    await append_audit(session, actor, "audit.purged", subject_type="audit_entry", subject_id=through.seq,
                       rule_id="AUD-01", detail={"before": cutoff.isoformat(), "through_seq": through.seq,
                                                 "through_hash": through.entry_hash, "entries": count})
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(sa.text("SELECT hospital_audit_purge(:cutoff)"), {"cutoff": cutoff.replace(tzinfo=None)})
    else:
        await session.execute(sa.delete(AuditEntry).where(AuditEntry.at < cutoff))  # type: ignore[arg-type,operator]
    return int(count)


async def verify_chain(session: AsyncSession, *, batch: int = 2000) -> tuple[int, ChainBreak | None]:
    """Walk the chain in order; return (entries checked, first break or None)."""
    walk = await walk_chain(session, stop_at_first=True, batch=batch)
    return walk.checked, (walk.breaks[0] if walk.breaks else None)
