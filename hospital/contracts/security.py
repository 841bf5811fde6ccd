"""Events of the security area (SEC-02): each change of a security incident, as the register records it. No
platform method takes them (docs/security.md): the event is the hospital's own record of the procedure."""

from __future__ import annotations

from typing import ClassVar

from hospital.contracts.base import AwareDatetime, Part, Payload

__all__ = ["EVENTS", "AuthorityReport", "IncidentChanged"]


class AuthorityReport(Part, kw_only=True):
    authority: str  # a code of hospital/security/incidents/data/authorities.csv
    reported_at: AwareDatetime


class IncidentChanged(Payload, kw_only=True):
    """`security.incident` (subject: the incident; version grows with each step of the procedure)."""

    SEALED: ClassVar[tuple[str, ...]] = ("summary", "note", "review", "reference")  # narrative, who took a report

    incident_id: str
    change: str  # opened, contained, reported, closed …
    kind: str
    severity: str
    status: str
    source: str  # detection | person
    leak: str  # none | suspected | confirmed
    personal_information: bool
    affected_subjects: int
    account_user_id: str | None = None
    detected_at: AwareDatetime
    report_due_at: AwareDatetime | None = None
    reported_at: AwareDatetime | None = None
    contained_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    required_authorities: list[str] = []
    reported_to: list[AuthorityReport] = []
    summary: str
    note: str = ""
    review: str = ""
    reference: str | None = None  # the authority's reference for a report just made


EVENTS: dict[str, type[Payload]] = {"security.incident": IncidentChanged}
