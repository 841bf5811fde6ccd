"""Wire schemas of the security area's HTTP answers (hospital/security/*/api.py), beside its event payloads in
security.py: the audit scan, and the security-incident register (SEC-02) as the administrator's page reads it."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["AuthorityView", "IncidentAccount", "IncidentDetail", "IncidentReport", "IncidentStepView", "IncidentView",
           "RequiredAuthority", "ScanResult"]


class ScanResult(msgspec.Struct, kw_only=True):
    """`POST /api/security/scan`: the audit chain walked and the trail's leak patterns looked for (SEC-02)."""

    entries_checked: int
    chain_breaks: list[dict[str, Any]]  # each break as `verify_chain` names it (sequence, expected, found …)
    findings: int
    opened: list[str]  # incidents opened
    updated: list[str]  # incidents updated


class AuthorityView(msgspec.Struct, kw_only=True):
    """Who a leak is reported to, from the reviewed table (hospital/security/incidents/data/authorities.csv)."""

    code: str
    name_zh: str
    name_en: str
    reported_when: str
    source: str


class IncidentAccount(msgspec.Struct, kw_only=True):
    """The account an incident involves, and whether it (and the clinician's practice) is suspended."""

    user_id: str
    display_name: str
    role: str
    suspended: bool
    staff_id: str | None  # None: not a clinician
    practice_suspended: bool | None


class RequiredAuthority(msgspec.Struct, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    reported: bool


class IncidentReport(msgspec.Struct, kw_only=True):
    """One report made to an authority, as the register keeps it."""

    authority: str
    reported_at: str  # ISO 8601 with offset
    recorded_by: str  # the administrator's user id (or the role when none)
    recorded_at: str


class IncidentView(msgspec.Struct, kw_only=True):
    """One incident in the register, with whether its report to the authorities is overdue."""

    incident_id: str
    kind: str
    severity: str
    status: str  # open | contained | reported | closed
    summary: str
    source: str  # detection | person
    account: IncidentAccount | None
    client_address: str | None
    detected_at: str | None  # ISO 8601 with offset
    evidence_from: str | None
    evidence_to: str | None
    affected_subjects: int
    leak: str  # none | suspected | confirmed
    personal_information: bool
    report_due_at: str | None
    reported_at: str | None
    overdue: bool
    required_authorities: list[RequiredAuthority]
    reports: list[IncidentReport]
    contained_at: str | None
    closed_at: str | None
    review: str | None
    version: int


class IncidentStepView(msgspec.Struct, kw_only=True):
    """One line of the timeline: who did what, when."""

    version: int
    at: str | None
    action: str
    note: str
    detail: dict[str, Any]  # what the step recorded; its keys depend on the action
    actor_role: str
    actor: str  # the actor's display name, or their role


class IncidentDetail(IncidentView, kw_only=True):
    """One incident with its evidence and timeline: also the answer of every step of the procedure."""

    evidence: dict[str, Any]  # what the detection found; its keys depend on the detector
    timeline: list[IncidentStepView]
