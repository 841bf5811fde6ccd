"""Retention (REC-02): list, and on request purge, the records whose retention period has ended.

What is purged: chat messages (3 years after their visit closed), a video visit's recordings (3 years after
they were stored: the `visit_recording` row, then its blob), signed medical records (15 years after sign-off),
prior diagnoses no visit refers to and blobs no record names (15 years for documents). Nothing is
purged before its date: the query selects only what is due and each deletion is checked again by the REC-02
rule. A blob still named by a record (a visit's prior diagnosis, a staff photo, a recording) is held, however
old. The audit trail is never purged; the purge itself is audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col, select

import hospital.models  # noqa: F401  (every table, so every reference to a blob is seen)
from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.blobs import Blob
from hospital.core.retention import RetentionClass
from hospital.retention.rules import check_purge_date_reached
from hospital.video.models import VisitRecording
from hospital.visits.booking.models import Visit
from hospital.visits.encounter.models import ChatMessage, MedicalRecord
from hospital.visits.intake.models import PriorDiagnosisRecord

__all__ = ["PURGE_LEASE", "DueRecord", "PurgeReport", "find_due", "purge_due"]

# The job lease (hospital/core/leases.py) a purge holds while it runs; a backup holds it too, so no blob its
# database snapshot names is deleted before the backup has copied it.
PURGE_LEASE = "retention-purge"


@dataclass(frozen=True, slots=True)
class DueRecord:
    kind: str  # chat_message | visit_recording | medical_record | prior_diagnosis | blob
    key: str  # the row id, or a blob's SHA-256
    retention_class: str
    purge_not_before: date
    held_by: str | None = None  # a record that still names it: kept

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "retention_class": self.retention_class,
                "purge_not_before": self.purge_not_before.isoformat(), "held_by": self.held_by}


@dataclass(slots=True)
class PurgeReport:
    as_of: date
    executed: bool
    due: list[DueRecord] = field(default_factory=list)
    held: list[DueRecord] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "executed": self.executed,
                "due": [d.as_dict() for d in self.due], "held": [h.as_dict() for h in self.held]}


def _blob_references() -> list[sa.Column[Any]]:
    """Every column that names a blob: a foreign key to blob.sha256, or a column called *_sha256."""
    blob = SQLModel.metadata.tables["blob"]
    found = []
    for table in SQLModel.metadata.sorted_tables:
        if table is blob:
            continue
        for column in table.columns:
            if any(fk.column.table is blob for fk in column.foreign_keys) or column.name.endswith("sha256"):
                found.append(column)
    return found


async def _held_blobs(session: AsyncSession, shas: set[str], leaving: dict[str, set[uuid.UUID]]) -> dict[str, str]:
    """Which of `shas` a record still names (the rows in `leaving`, by table, are about to go and do not hold)."""
    held: dict[str, str] = {}
    if not shas:
        return held
    for column in _blob_references():
        query = sa.select(column).where(column.in_(shas)).distinct()
        if leaving.get(column.table.name):
            query = query.where(column.table.c.id.not_in(leaving[column.table.name]))
        for sha in (await session.execute(query)).scalars():
            held.setdefault(sha, f"{column.table.name}.{column.name}")
    return held


async def find_due(session: AsyncSession, as_of: date, *, release: bool = True) -> PurgeReport:
    """What may be purged on `as_of`, and what is due but held by a record that still names it."""
    report = PurgeReport(as_of, executed=False)
    chats = await session.execute(select(col(ChatMessage.id), col(ChatMessage.purge_not_before))
                                  .where(col(ChatMessage.purge_not_before) <= as_of))
    report.due += [DueRecord("chat_message", str(i), RetentionClass.CHAT, d) for i, d in chats.all()]
    recordings = (await session.execute(select(col(VisitRecording.id), col(VisitRecording.purge_not_before))
                                        .where(col(VisitRecording.purge_not_before) <= as_of))).all()
    report.due += [DueRecord("visit_recording", str(i), RetentionClass.AUDIO_VIDEO, d) for i, d in recordings]
    records = await session.execute(select(col(MedicalRecord.id), col(MedicalRecord.purge_not_before)).where(
        col(MedicalRecord.purge_not_before).is_not(None), col(MedicalRecord.purge_not_before) <= as_of))
    report.due += [DueRecord("medical_record", str(i), RetentionClass.MEDICAL_RECORD, d) for i, d in records.all() if d]
    due_blobs = await session.execute(select(col(Blob.sha256), col(Blob.purge_not_before))
                                      .where(col(Blob.purge_not_before) <= as_of))
    blobs: dict[str, date] = {sha: keep_until for sha, keep_until in due_blobs.all()}
    priors = (await session.execute(select(col(PriorDiagnosisRecord.id), col(PriorDiagnosisRecord.document_sha256))
                                    .where(col(PriorDiagnosisRecord.document_sha256).in_(blobs)))).all()
    used = set((await session.execute(select(Visit.prior_diagnosis_id).where(
        col(Visit.prior_diagnosis_id).in_([i for i, _ in priors])).distinct())).scalars())
    leaving: dict[str, set[uuid.UUID]] = {VisitRecording.__tablename__: {i for i, _ in recordings},
                                          PriorDiagnosisRecord.__tablename__: set()}
    for prior_id, sha in priors:  # a prior diagnosis is kept as long as its document
        item = DueRecord("prior_diagnosis", str(prior_id), RetentionClass.MEDICAL_RECORD, blobs[sha],
                         "visit.prior_diagnosis_id" if prior_id in used else None)
        (report.held if item.held_by else report.due).append(item)
        if not item.held_by:
            leaving[PriorDiagnosisRecord.__tablename__].add(prior_id)
    held = await _held_blobs(session, set(blobs), leaving)
    for sha, keep_until in blobs.items():
        row = await session.get(Blob, sha)
        item = DueRecord("blob", sha, row.retention_class if row else "", keep_until, held.get(sha))
        (report.held if item.held_by else report.due).append(item)
    if release:
        await session.rollback()  # a read: release SQLite's lock before a long report is printed
    return report


async def purge_due(session: AsyncSession, ctx: HospitalContext, actor: Actor) -> PurgeReport:
    """Purge what is due today (never another day); blob files go after the rows are committed."""
    today = ctx.today()
    report = await find_due(session, today, release=False)
    report.executed = True
    purged_blobs: list[str] = []
    for kind in ("chat_message", "visit_recording", "medical_record", "prior_diagnosis", "blob"):
        items = [d for d in report.due if d.kind == kind]
        for item in items:
            check_purge_date_reached(f"{kind} {item.key}", item.purge_not_before, today)
        if not items:
            continue
        # The dates are checked again in the DELETE, so a record kept longer meanwhile (a visit closed, a blob
        # stored again) stays.
        if kind == "blob":
            deleted = await session.execute(sa.delete(Blob).where(
                col(Blob.sha256).in_([d.key for d in items]), col(Blob.purge_not_before) <= today).returning(col(Blob.sha256)))
            purged_blobs = list(deleted.scalars())
        elif kind == "prior_diagnosis":
            await session.execute(sa.delete(PriorDiagnosisRecord).where(
                col(PriorDiagnosisRecord.id).in_([uuid.UUID(d.key) for d in items])))
        elif kind == "visit_recording":
            await session.execute(sa.delete(VisitRecording).where(
                col(VisitRecording.id).in_([uuid.UUID(d.key) for d in items]),
                col(VisitRecording.purge_not_before) <= today))
        else:
            table = ChatMessage if kind == "chat_message" else MedicalRecord
            await session.execute(sa.delete(table).where(col(table.id).in_([uuid.UUID(d.key) for d in items]),
                                                         col(table.purge_not_before) <= today))
        await append_audit(session, actor, "retention.purged", subject_type=kind, subject_id=today.isoformat(),
                           rule_id="REC-02", detail={"count": len(items), "keys": [d.key for d in items]})
    await session.commit()
    store = ctx.blob_store()
    for sha in purged_blobs:
        await store.delete(sha)
    return report
