"""The SEC-02 scan: walk the audit chain, read the trail for leak patterns, open an incident per new finding.

The scan reads only what the hospital already records: the audit trail (reads of patient records, failed
log-ins, face lockouts) and the chain's own hashes. Scans are serialised (SQLite: the IMMEDIATE transaction;
PostgreSQL: an advisory lock), and each finding opens one incident however often it is seen: in the register
of `hospital.security.incidents`, through its `record_step` (timeline, audit entry, outbox event).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.context import HospitalContext
from hospital.core.audit import GENESIS_HASH, Actor, AuditEntry, ChainBreak, entry_hash, walk_chain
from hospital.core.audit_anchor import CheckpointStore, check_against, checkpoint_store, take_checkpoint
from hospital.identity.models import User
from hospital.patients.models import Patient
from hospital.prescriptions.models import Prescription
from hospital.security.detection import rules
from hospital.security.incidents.models import SecurityIncident
from hospital.security.incidents.rules import IncidentKind, IncidentStatus, report_deadline
from hospital.security.incidents.service import load_incident, record_step
from hospital.visits.intake.models import PriorDiagnosisRecord

__all__ = ["PATIENT_READS", "READ_ACTIONS", "ChainCursor", "ScanReport", "scan"]

_SCAN_LOCK_KEY = 0x5345_4330_3253_434E  # "SEC02SCN"
_CHUNK = 500

# Reads of one patient's record whose audit entry names the patients itself (`audit_read`: detail["patients"]).
# Lists (`visit.list_read`, `prior_diagnosis.list_read`) are audited too but not counted: a doctor's worklist names
# every patient they ever saw, which is no burst of record openings.
PATIENT_READS = ("visit.read", "medical_record.read", "chat.read")

# Older audited reads that name only the record, and how each finds its patient (the user account of the patient).
PatientQuery = Callable[[list[uuid.UUID]], Any]
READ_ACTIONS: dict[str, PatientQuery] = {
    "prescription.exported": lambda ids: select(Prescription.id, Prescription.patient_user_id).where(
        col(Prescription.id).in_(ids)),
    "prior_diagnosis.document_read": lambda ids: select(PriorDiagnosisRecord.id, Patient.user_id).join(
        Patient, Patient.id == PriorDiagnosisRecord.patient_id).where(col(PriorDiagnosisRecord.id).in_(ids)),  # type: ignore[arg-type]
}


@dataclass(frozen=True, slots=True)
class ChainCursor:
    """Where a walk of the audit chain ended: the next scan resumes from here."""

    last_seq: int = 0
    last_hash: str = GENESIS_HASH


@dataclass(slots=True)
class ScanReport:
    entries_checked: int = 0
    chain_breaks: list[dict[str, Any]] = field(default_factory=list)
    findings: int = 0
    opened: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    cursor: ChainCursor = field(default_factory=ChainCursor)

    def as_dict(self) -> dict[str, Any]:
        return {"entries_checked": self.entries_checked, "chain_breaks": self.chain_breaks,
                "findings": self.findings, "opened": self.opened, "updated": self.updated}


async def _lock_scans(session: AsyncSession) -> None:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCAN_LOCK_KEY})


async def _walk(session: AsyncSession, cursor: ChainCursor | None) -> tuple[int, list[ChainBreak], ChainCursor]:
    """The whole chain, or what was added since `cursor` (checking the entry it ended on is still as it was)."""
    breaks: list[ChainBreak] = []
    start = cursor or ChainCursor()
    if cursor is not None and cursor.last_seq:
        anchor = (await session.execute(select(AuditEntry).where(AuditEntry.seq == cursor.last_seq))).scalar_one_or_none()
        if anchor is None or anchor.entry_hash != cursor.last_hash or entry_hash(anchor) != anchor.entry_hash:
            breaks.append(ChainBreak(cursor.last_seq, "the entry the last scan ended on was deleted or edited"))
        if anchor is not None:
            session.expunge(anchor)
    walk = await walk_chain(session, after_seq=start.last_seq, previous_hash=start.last_hash)
    breaks.extend(walk.breaks)
    return walk.checked, breaks, ChainCursor(walk.last_seq, walk.last_hash)


async def _against_checkpoint(session: AsyncSession, store: CheckpointStore) -> ChainBreak | None:
    """The chain against the latest signed checkpoint: a tail cut off, or the entry it signed changed."""
    try:
        checkpoint = store.latest()
    except ValueError as forged:
        return ChainBreak(0, str(forged))
    finding = await check_against(session, checkpoint) if checkpoint is not None else None
    return ChainBreak(finding.first_seq, finding.detail) if finding is not None else None


async def _audit_rows(session: AsyncSession, actions: Sequence[str], since: datetime) -> Sequence[Any]:
    columns = (AuditEntry.seq, AuditEntry.id, AuditEntry.at, AuditEntry.actor_id, AuditEntry.action,
               AuditEntry.subject_id, AuditEntry.client_address, AuditEntry.detail)
    query = sa.select(*(col(c) for c in columns)).where(col(AuditEntry.action).in_(actions), col(AuditEntry.at) >= since)
    return (await session.execute(query.order_by(col(AuditEntry.seq)))).all()


async def _reads(session: AsyncSession, since: datetime) -> list[rules.AccessFact]:
    rows = [r for r in await _audit_rows(session, list(READ_ACTIONS), since) if r.actor_id is not None]
    patients: dict[tuple[str, str], str] = {}
    for action, query in READ_ACTIONS.items():
        ids = sorted({uuid.UUID(r.subject_id) for r in rows if r.action == action}, key=str)
        for start in range(0, len(ids), _CHUNK):
            for subject, patient in (await session.execute(query(ids[start:start + _CHUNK]))).all():
                patients[(action, str(subject))] = str(patient)
    facts = [rules.AccessFact(str(r.actor_id), patients[(r.action, r.subject_id)], r.at, r.seq, r.action)
             for r in rows if (r.action, r.subject_id) in patients]
    for r in await _audit_rows(session, PATIENT_READS, since):
        if r.actor_id is not None:
            facts.extend(rules.AccessFact(str(r.actor_id), str(patient), r.at, r.seq, r.action)
                         for patient in (r.detail or {}).get("patients", []) if str(patient) != str(r.actor_id))
    return sorted(facts, key=lambda f: f.seq)


async def _known(session: AsyncSession, since: datetime) -> list[rules.KnownIncident]:
    rows = (await session.execute(select(SecurityIncident).where(
        SecurityIncident.source == "detection",
        (col(SecurityIncident.kind) == IncidentKind.AUDIT_TAMPERING.value)
        | (col(SecurityIncident.evidence_to) >= since)))).scalars().all()
    return [_known_of(i) for i in rows]


def _known_of(incident: SecurityIncident) -> rules.KnownIncident:
    return rules.KnownIncident(
        id=str(incident.id), fingerprint=incident.fingerprint, kind=incident.kind,
        group=str(incident.account_user_id) if incident.account_user_id else incident.client_address,
        evidence_from=incident.evidence_from, evidence_to=incident.evidence_to,
        affected_subjects=incident.affected_subjects, closed=incident.status == IncidentStatus.CLOSED,
        breaks=frozenset(int(b["seq"]) for b in incident.evidence.get("breaks", [])))


async def scan(session: AsyncSession, ctx: HospitalContext, actor: Actor, *,
               cursor: ChainCursor | None = None) -> ScanReport:
    """Walk the audit chain (all of it, or from `cursor`) and read the trail since the look-back; open one
    incident per new finding, or add to the open incident a finding continues. One transaction."""
    await _lock_scans(session)
    settings, now = ctx.settings, ctx.now()
    checked, breaks, new_cursor = await _walk(session, cursor)  # first: the walk detaches what it reads
    checkpoints = checkpoint_store(settings.data_dir)
    tail = await _against_checkpoint(session, checkpoints)
    if tail is not None:
        breaks.append(tail)
    since = now - timedelta(hours=settings.security_scan_lookback_hours)
    failures = [rules.AccessFact(r.client_address, r.subject_id, r.at, r.seq, r.action)
                for r in await _audit_rows(session, ["login.failed"], since) if r.client_address]
    lockouts = [rules.LockoutFact(str(r.id), r.subject_id, r.at, r.client_address)
                for r in await _audit_rows(session, ["face.locked"], since)]
    detections = [
        *rules.detect_bulk_access(await _reads(session, since), threshold=settings.security_bulk_access_patients,
                                  window=timedelta(minutes=settings.security_bulk_access_window_minutes)),
        *rules.detect_credential_stuffing(failures, threshold=settings.security_stuffing_accounts,
                                          window=timedelta(minutes=settings.security_stuffing_window_minutes)),
        *rules.detect_face_lockouts(lockouts),
    ]
    known = await _known(session, since - timedelta(minutes=max(settings.security_bulk_access_window_minutes,
                                                                settings.security_stuffing_window_minutes)))
    tampering = rules.detect_audit_tampering([(b.seq, b.reason) for b in breaks],
                                             {s for k in known for s in k.breaks}, now)
    if tampering is not None:
        detections.insert(0, tampering)
    report = ScanReport(entries_checked=checked, chain_breaks=[{"seq": b.seq, "reason": b.reason} for b in breaks],
                        findings=len(detections), cursor=new_cursor)
    for detection in detections:
        match = rules.known_match(detection, known)
        if match is None or rules.continues_after_close(detection, match):
            incident = await _open_detected(session, ctx, actor, detection, reopened=match is not None)
            known.append(_known_of(incident))
            report.opened.append(str(incident.id))
        elif rules.has_grown(detection, match):
            incident = await load_incident(session, uuid.UUID(match.id), lock=True)
            incident.evidence_to = max(detection.last_at, incident.evidence_to or detection.last_at)
            incident.affected_subjects, incident.evidence = detection.affected_subjects, detection.evidence
            await record_step(session, ctx, actor, incident, "detected_again",
                          detail={"affected_subjects": detection.affected_subjects,
                                  "evidence_to": detection.last_at.isoformat()})
            known[known.index(match)] = _known_of(incident)
            report.updated.append(str(incident.id))
    await session.commit()
    if tail is None:  # anchor the chain as it is now, outside the database (a cut tail is never signed over)
        await take_checkpoint(session, checkpoints, ctx.now())
        await session.rollback()
    return report


async def _open_detected(session: AsyncSession, ctx: HospitalContext, actor: Actor, detection: rules.Detection, *,
                         reopened: bool) -> SecurityIncident:
    now = ctx.now()
    account = uuid.UUID(detection.account_user_id) if detection.account_user_id else None
    if account is not None and await session.get(User, account) is None:
        account = None  # an address or a deleted account: the evidence still names it
    incident = SecurityIncident(
        kind=detection.kind.value, severity=detection.severity.value, summary=detection.summary, source="detection",
        fingerprint=detection.fingerprint + (f":{detection.last_at.isoformat()}" if reopened else ""),
        account_user_id=account, client_address=detection.client_address, detected_at=now,
        evidence_from=detection.first_at, evidence_to=detection.last_at, evidence=detection.evidence,
        affected_subjects=detection.affected_subjects, leak=detection.leak.value,
        personal_information=detection.personal_information,
        report_due_at=report_deadline(detection.leak, now, ctx.settings.security_report_hours))
    await record_step(session, ctx, actor, incident, "opened", first=True, detail={
        "source": "detection", "fingerprint": incident.fingerprint, "severity": incident.severity,
        "affected_subjects": incident.affected_subjects})
    return incident
