"""Use cases of the security-incident register (SEC-02): open, note, assess, act on an account, contain,
report, close, and the views.

Each use case is one transaction: it loads the incident under a row lock, applies the pure rules, changes it,
adds the timeline step, the audit entry (`security_incident.<action>`) and the outbox event `security.incident`
(narrative sealed, REC-03), and commits once. A refusal leaves the database as it was. The scan
(`hospital.security.detection`) opens and updates incidents through `record_step`, in its own transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.context import HospitalContext
from hospital.contracts.security import AuthorityReport, IncidentChanged
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import NotFound, RuleViolation
from hospital.core.outbox import emit
from hospital.identity.models import User
from hospital.security.incidents import rules
from hospital.security.incidents.authorities import load_authorities
from hospital.security.incidents.models import SecurityIncident, SecurityIncidentStep
from hospital.security.incidents.rules import Authority, IncidentStatus, Leak
from hospital.staff.models import StaffMember
from hospital.staff.service import set_suspension

__all__ = ["EVENT", "SUBJECT", "NewIncident", "account_action", "add_note", "assess", "close_incident", "contain",
           "get_incident", "incident_view", "list_incidents", "load_incident", "open_incident", "record_report",
           "record_step"]

EVENT = "security.incident"
SUBJECT = "security_incident"


# ---- reading and the views -------------------------------------------------------------------------------------

async def load_incident(session: AsyncSession, incident_id: uuid.UUID, *, lock: bool = False) -> SecurityIncident:
    query = select(SecurityIncident).where(SecurityIncident.id == incident_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    incident = (await session.execute(query)).scalar_one_or_none()
    if incident is None:
        raise NotFound("no such security incident")
    return incident


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _required(incident: SecurityIncident, authorities: Sequence[Authority]) -> tuple[Authority, ...]:
    return rules.required_authorities(Leak(incident.leak), incident.personal_information, authorities)


def _reported_codes(incident: SecurityIncident) -> set[str]:
    return {str(r["authority"]) for r in incident.reports}


async def _accounts(session: AsyncSession, user_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, dict[str, Any]]:
    ids = sorted({i for i in user_ids if i is not None}, key=str)
    if not ids:
        return {}
    users = (await session.execute(select(User).where(col(User.id).in_(ids)))).scalars().all()
    staff = {m.user_id: m for m in (await session.execute(
        select(StaffMember).where(col(StaffMember.user_id).in_(ids)))).scalars().all()}
    return {u.id: {"user_id": str(u.id), "display_name": u.display_name, "role": u.role, "suspended": not u.is_active,
                   "staff_id": str(staff[u.id].id) if u.id in staff else None,
                   "practice_suspended": staff[u.id].suspended if u.id in staff else None} for u in users}


def incident_view(incident: SecurityIncident, now: datetime, authorities: Sequence[Authority],
                  account: dict[str, Any] | None) -> dict[str, Any]:
    required = _required(incident, authorities)
    reported = _reported_codes(incident)
    return {
        "incident_id": str(incident.id), "kind": incident.kind, "severity": incident.severity,
        "status": incident.status, "summary": incident.summary, "source": incident.source,
        "account": account, "client_address": incident.client_address or None,
        "detected_at": _iso(incident.detected_at), "evidence_from": _iso(incident.evidence_from),
        "evidence_to": _iso(incident.evidence_to), "affected_subjects": incident.affected_subjects,
        "leak": incident.leak, "personal_information": incident.personal_information,
        "report_due_at": _iso(incident.report_due_at), "reported_at": _iso(incident.reported_at),
        "overdue": rules.is_overdue(incident.report_due_at, incident.reported_at, now),
        "required_authorities": [{"code": a.code, "name_zh": a.name_zh, "name_en": a.name_en,
                                  "reported": a.code in reported} for a in required],
        "reports": incident.reports, "contained_at": _iso(incident.contained_at),
        "closed_at": _iso(incident.closed_at), "review": incident.review, "version": incident.version,
    }


async def list_incidents(session: AsyncSession, ctx: HospitalContext) -> list[dict[str, Any]]:
    """Every incident, the unfinished first, newest first; each says whether its report is overdue."""
    incidents = (await session.execute(select(SecurityIncident).order_by(
        col(SecurityIncident.status) == IncidentStatus.CLOSED.value, col(SecurityIncident.detected_at).desc(),
        col(SecurityIncident.created_at).desc()))).scalars().all()
    accounts = await _accounts(session, (i.account_user_id for i in incidents))
    authorities, now = load_authorities(), ctx.now()
    return [incident_view(i, now, authorities, accounts.get(i.account_user_id) if i.account_user_id else None)
            for i in incidents]


async def get_incident(session: AsyncSession, ctx: HospitalContext, incident_id: uuid.UUID) -> dict[str, Any]:
    """One incident with its evidence and its timeline."""
    incident = await load_incident(session, incident_id)
    steps = (await session.execute(select(SecurityIncidentStep).where(
        SecurityIncidentStep.incident_id == incident.id).order_by(col(SecurityIncidentStep.version)))).scalars().all()
    accounts = await _accounts(session, [incident.account_user_id, *(s.actor_user_id for s in steps)])
    view = incident_view(incident, ctx.now(), load_authorities(),
                         accounts.get(incident.account_user_id) if incident.account_user_id else None)
    view["evidence"] = incident.evidence
    view["timeline"] = [{
        "version": s.version, "at": _iso(s.at), "action": s.action, "note": s.note, "detail": s.detail,
        "actor_role": s.actor_role,
        "actor": accounts[s.actor_user_id]["display_name"] if s.actor_user_id in accounts else s.actor_role,
    } for s in steps]
    return view


# ---- recording a change ----------------------------------------------------------------------------------------

def _restage(incident: SecurityIncident, authorities: Sequence[Authority], now: datetime) -> None:
    required = _required(incident, authorities)
    complete = not rules.missing_reports(required, _reported_codes(incident))
    if required and complete and incident.reported_at is None:
        incident.reported_at = max((datetime.fromisoformat(str(r["reported_at"])) for r in incident.reports
                                    if r["authority"] in {a.code for a in required}), default=now)
    if not (required and complete):
        incident.reported_at = None
    incident.status = rules.stage_of(contained=incident.contained_at is not None, reporting_required=bool(required),
                                     reports_complete=complete, closed=incident.closed_at is not None).value


async def record_step(session: AsyncSession, ctx: HospitalContext, actor: Actor, incident: SecurityIncident, action: str,
                  *, note: str = "", detail: dict[str, Any] | None = None, reference: str | None = None,
                  first: bool = False) -> None:
    """The step, the audit entry and the outbox event of one change, in the caller's transaction."""
    authorities, now = load_authorities(), ctx.now()
    _restage(incident, authorities, now)
    if not first:
        incident.version += 1
        incident.touch()
    session.add(incident)
    await session.flush()
    detail = detail or {}
    session.add(SecurityIncidentStep(incident_id=incident.id, version=incident.version, at=now,
                                     actor_user_id=actor.user_id, actor_role=actor.role, action=action, note=note,
                                     detail=detail))
    await append_audit(session, actor, f"{SUBJECT}.{action}", subject_type=SUBJECT, subject_id=incident.id,
                       rule_id="SEC-02", detail={"status": incident.status, "version": incident.version,
                                                 "kind": incident.kind, "leak": incident.leak, **detail})
    required = _required(incident, authorities)
    # The narrative and who took a report are sealed (IncidentChanged.SEALED, REC-03).
    await emit(session, EVENT, subject_type=SUBJECT, subject_id=incident.id, version=incident.version,
               payload=IncidentChanged(
                   incident_id=str(incident.id), change=action, kind=incident.kind, severity=incident.severity,
                   status=incident.status, source=incident.source, leak=incident.leak,
                   personal_information=incident.personal_information, affected_subjects=incident.affected_subjects,
                   account_user_id=str(incident.account_user_id) if incident.account_user_id else None,
                   detected_at=incident.detected_at, report_due_at=incident.report_due_at,
                   reported_at=incident.reported_at, contained_at=incident.contained_at, closed_at=incident.closed_at,
                   required_authorities=[a.code for a in required],
                   reported_to=[AuthorityReport(authority=r["authority"],
                                                reported_at=datetime.fromisoformat(str(r["reported_at"])))
                                for r in incident.reports],
                   summary=incident.summary, note=note, review=incident.review or "", reference=reference),
               cipher=ctx.cipher)


async def _changed(session: AsyncSession, ctx: HospitalContext, actor: Actor, incident: SecurityIncident,
                   action: str, **kw: Any) -> dict[str, Any]:
    await record_step(session, ctx, actor, incident, action, **kw)
    await session.commit()
    return await get_incident(session, ctx, incident.id)


# ---- the procedure ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NewIncident:
    kind: str
    severity: str
    summary: str
    leak: str = "none"
    personal_information: bool = True
    detected_at: datetime | None = None
    affected_subjects: int = 0
    account_user_id: uuid.UUID | None = None


async def open_incident(session: AsyncSession, ctx: HospitalContext, actor: Actor,
                        data: NewIncident) -> dict[str, Any]:
    """A person records an incident (a leak may be found outside the software: a call, a paper, a screenshot)."""
    now = ctx.now()
    detected_at = data.detected_at or now
    kind, severity, leak = rules.check_new_incident(data.kind, data.severity, data.leak, data.summary, detected_at,
                                                    now, data.affected_subjects)
    if data.account_user_id is not None and await session.get(User, data.account_user_id) is None:
        raise NotFound("no such account")
    incident = SecurityIncident(
        kind=kind.value, severity=severity.value, summary=data.summary.strip(), source="person",
        account_user_id=data.account_user_id, detected_at=detected_at, affected_subjects=data.affected_subjects,
        leak=leak.value, personal_information=data.personal_information and leak is not Leak.NONE,
        report_due_at=rules.report_deadline(leak, detected_at, ctx.settings.security_report_hours),
        opened_by_user_id=actor.user_id)
    return await _changed(session, ctx, actor, incident, "opened", first=True,
                          detail={"source": "person", "severity": severity.value})


async def add_note(session: AsyncSession, ctx: HospitalContext, actor: Actor, incident_id: uuid.UUID,
                   note: str) -> dict[str, Any]:
    """A line on the timeline: what was found, who was told, what was recovered."""
    incident = await load_incident(session, incident_id, lock=True)
    rules.check_open(incident.status)
    if len(note.strip()) < 2:
        raise RuleViolation("SEC-02", "the note is empty")
    return await _changed(session, ctx, actor, incident, "note", note=note.strip())


async def assess(session: AsyncSession, ctx: HospitalContext, actor: Actor, incident_id: uuid.UUID, *, leak: str,
                 personal_information: bool, note: str, severity: str | None = None,
                 affected_subjects: int | None = None) -> dict[str, Any]:
    """Whether data leaked (none, suspected, confirmed) and whose: sets or clears the reporting duty."""
    incident = await load_incident(session, incident_id, lock=True)
    parsed = rules.check_assessment(incident.status, leak, bool(incident.reports), note)
    if affected_subjects is not None and affected_subjects < 0:
        raise RuleViolation("SEC-02", "the number of people affected cannot be negative")
    if severity is not None:
        incident.severity = rules.parse_severity(severity).value
    if affected_subjects is not None:
        incident.affected_subjects = affected_subjects
    was = Leak(incident.leak)
    incident.leak, incident.personal_information = parsed.value, personal_information and parsed is not Leak.NONE
    if parsed is Leak.NONE:
        incident.report_due_at = None
    elif incident.report_due_at is None:  # first known as a leak now: the deadline runs from here
        incident.report_due_at = rules.report_deadline(parsed, ctx.now(), ctx.settings.security_report_hours)
    return await _changed(session, ctx, actor, incident, "assessed", note=note.strip(), detail={
        "leak": parsed.value, "was": was.value, "personal_information": incident.personal_information,
        "severity": incident.severity, "affected_subjects": incident.affected_subjects})


async def account_action(session: AsyncSession, ctx: HospitalContext, actor: Actor, incident_id: uuid.UUID, *,
                         action: str, note: str, account_user_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Containment on an account: suspend it (log-in refused; a clinician's practice suspended and signing
    certificate revoked, STAFF-03) or restore it once recovered. Recorded on the incident's timeline."""
    incident = await load_incident(session, incident_id, lock=True)
    target_id = account_user_id or incident.account_user_id
    user = await session.get(User, target_id) if target_id is not None else None
    if target_id is not None and user is None:
        raise NotFound("no such account")
    rules.check_account_action(action, str(actor.user_id) if actor.user_id else None,
                               str(target_id) if target_id else None, user is not None and not user.is_active,
                               incident.status)
    assert user is not None
    member = (await session.execute(select(StaffMember).where(StaffMember.user_id == user.id))).scalar_one_or_none()
    marker = f"SEC-02 incident {incident.id}"
    practice = False
    if action == "suspend_account":
        user.is_active = False
        if member is not None and not member.suspended:
            await set_suspension(session, ctx, actor, member.id, True, f"{marker}: {note.strip() or 'security incident'}",
                                 commit=False)
            practice = True
        step = "account_suspended"
    else:
        user.is_active, user.failed_logins, user.locked_until = True, 0, None
        if member is not None and member.suspended and (member.suspension_reason or "").startswith(marker):
            await set_suspension(session, ctx, actor, member.id, False, None, commit=False)
            practice = True
        step = "account_restored"
    user.touch()
    session.add(user)
    await session.flush()
    await append_audit(session, actor, "user.suspended" if step == "account_suspended" else "user.restored",
                       subject_type="user", subject_id=user.id, rule_id="SEC-02",
                       detail={"incident_id": str(incident.id), "role": user.role, "practice": practice})
    if incident.account_user_id is None:
        incident.account_user_id = user.id
    return await _changed(session, ctx, actor, incident, step, note=note.strip(), detail={
        "account_user_id": str(user.id), "role": user.role, "practice_changed": practice})


async def contain(session: AsyncSession, ctx: HospitalContext, actor: Actor, incident_id: uuid.UUID,
                  note: str) -> dict[str, Any]:
    """The incident is stopped: say how (account suspended, address blocked, leaked file taken down …)."""
    incident = await load_incident(session, incident_id, lock=True)
    rules.check_containment(incident.status, incident.contained_at is not None, note)
    incident.contained_at = ctx.now()
    return await _changed(session, ctx, actor, incident, "contained", note=note.strip())


async def record_report(session: AsyncSession, ctx: HospitalContext, actor: Actor, incident_id: uuid.UUID, *,
                        authorities: Sequence[str], reported_at: datetime, reference: str) -> dict[str, Any]:
    """The hospital reported the incident to these authorities, at this time, under this reference."""
    incident = await load_incident(session, incident_id, lock=True)
    table, now = load_authorities(), ctx.now()
    codes = rules.check_report(incident.status, list(authorities), table, reported_at, now, reference)
    incident.reports = [*incident.reports, *({"authority": code, "reported_at": reported_at.isoformat(),
                                             "recorded_by": str(actor.user_id) if actor.user_id else actor.role,
                                             "recorded_at": now.isoformat()} for code in codes)]
    return await _changed(session, ctx, actor, incident, "reported", reference=reference.strip(),
                          detail={"authorities": list(codes), "reported_at": reported_at.isoformat()})


async def close_incident(session: AsyncSession, ctx: HospitalContext, actor: Actor, incident_id: uuid.UUID,
                         review: str) -> dict[str, Any]:
    """Close after recovery, with the review: what happened, why, what changes."""
    incident = await load_incident(session, incident_id, lock=True)
    missing = rules.missing_reports(_required(incident, load_authorities()), _reported_codes(incident))
    rules.check_close(incident.status, Leak(incident.leak), incident.contained_at is not None, missing, review)
    incident.closed_at, incident.review = ctx.now(), review.strip()
    return await _changed(session, ctx, actor, incident, "closed")
