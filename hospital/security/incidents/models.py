"""Security incidents and their timelines (SEC-02)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.types import Record, UTCDateTime

__all__ = ["SecurityIncident", "SecurityIncidentStep"]


class SecurityIncident(Record, table=True):
    __tablename__ = "security_incident"

    kind: str = Field(index=True)
    severity: str
    status: str = Field(default="open", index=True)  # open | contained | reported | closed
    summary: str
    source: str  # detection | person
    # What a detection found, so the same finding opens one incident (null for incidents opened by a person).
    fingerprint: str | None = Field(default=None, unique=True)
    account_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", index=True)
    client_address: str = ""
    detected_at: datetime = Field(sa_type=UTCDateTime)
    evidence_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    evidence_to: datetime | None = Field(default=None, sa_type=UTCDateTime)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    affected_subjects: int = 0
    leak: str = "none"  # none | suspected | confirmed
    personal_information: bool = False
    report_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # [{"authority", "reported_at", "reference", "recorded_by", "recorded_at"}]
    reports: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # every required report made
    contained_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review: str | None = None
    opened_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    version: int = 1


class SecurityIncidentStep(Record, table=True):
    """One line of an incident's timeline: who did what, when. `version` is the incident's after the step."""

    __tablename__ = "security_incident_step"
    __table_args__ = (sa.UniqueConstraint("incident_id", "version"),)

    incident_id: uuid.UUID = Field(foreign_key="security_incident.id", index=True)
    version: int
    at: datetime = Field(sa_type=UTCDateTime)
    actor_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    actor_role: str
    # opened | detected_again | note | assessed | account_suspended | account_restored | contained | reported | closed
    action: str
    note: str = ""
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
