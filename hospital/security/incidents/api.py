"""The security-incident register for administrators (SEC-02): list, open, assess, contain, report, close."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.security_views import AuthorityView, IncidentDetail, IncidentView
from hospital.core.errors import InvalidInput
from hospital.identity.guards import requires_admin
from hospital.security.incidents import service
from hospital.security.incidents.authorities import load_authorities
from hospital.web.http import actor_of

__all__ = ["SecurityIncidentController"]

Text = Annotated[str, msgspec.Meta(max_length=4000)]


class IncidentBody(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    severity: str
    summary: Text
    leak: str = "none"
    personal_information: bool = True
    detected_at: datetime | None = None
    affected_subjects: int = 0
    account_user_id: uuid.UUID | None = None


class NoteBody(msgspec.Struct, forbid_unknown_fields=True):
    note: Text


class AssessmentBody(msgspec.Struct, forbid_unknown_fields=True):
    leak: str
    personal_information: bool
    note: Text
    severity: str | None = None
    affected_subjects: int | None = None


class AccountActionBody(msgspec.Struct, forbid_unknown_fields=True):
    action: str  # suspend_account | restore_account
    note: Text = ""
    account_user_id: uuid.UUID | None = None


class ReportBody(msgspec.Struct, forbid_unknown_fields=True):
    authorities: list[str]
    reported_at: datetime
    reference: Annotated[str, msgspec.Meta(max_length=500)]


class ReviewBody(msgspec.Struct, forbid_unknown_fields=True):
    review: Text


def _detail(view: dict[str, Any]) -> IncidentDetail:
    return msgspec.convert(view, IncidentDetail)


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput(f"{name} needs a time zone (e.g. +08:00)")
    return value


class SecurityIncidentController(Controller):
    path = "/api/admin/security"
    tags = ["security"]
    guards = [requires_admin]

    @get("/incidents", summary="Every security incident, unfinished first, with its overdue flag (SEC-02)")
    async def incidents(self, db_session: AsyncSession, ctx: HospitalContext) -> list[IncidentView]:
        return msgspec.convert(await service.list_incidents(db_session, ctx), list[IncidentView])

    @get("/authorities", summary="Who a leak is reported to (the reviewed table)")
    async def authorities(self) -> list[AuthorityView]:
        return [AuthorityView(code=a.code, name_zh=a.name_zh, name_en=a.name_en, reported_when=a.reported_when,
                              source=a.source) for a in load_authorities()]

    @get("/incidents/{incident_id:uuid}", summary="One incident with its evidence and timeline")
    async def incident(self, db_session: AsyncSession, ctx: HospitalContext, incident_id: uuid.UUID) -> IncidentDetail:
        return _detail(await service.get_incident(db_session, ctx, incident_id))

    @post("/incidents", summary="Open an incident by hand (a person found it)")
    async def record(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                   data: IncidentBody) -> IncidentDetail:
        _aware(data.detected_at, "detected_at")
        return _detail(await service.open_incident(db_session, ctx, actor_of(request),
                                                   service.NewIncident(**msgspec.structs.asdict(data))))

    @post("/incidents/{incident_id:uuid}/notes", summary="Add a line to the timeline")
    async def note(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                   incident_id: uuid.UUID, data: NoteBody) -> IncidentDetail:
        return _detail(await service.add_note(db_session, ctx, actor_of(request), incident_id, data.note))

    @post("/incidents/{incident_id:uuid}/assessment", status_code=200,
          summary="Whether data leaked and whose: sets or clears the duty to report")
    async def assess(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     incident_id: uuid.UUID, data: AssessmentBody) -> IncidentDetail:
        return _detail(await service.assess(db_session, ctx, actor_of(request), incident_id, leak=data.leak,
                                            personal_information=data.personal_information, note=data.note,
                                            severity=data.severity, affected_subjects=data.affected_subjects))

    @post("/incidents/{incident_id:uuid}/account-actions", status_code=200,
          summary="Suspend the account involved (log-in refused, practice suspended), or restore it")
    async def account(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                      incident_id: uuid.UUID, data: AccountActionBody) -> IncidentDetail:
        return _detail(await service.account_action(db_session, ctx, actor_of(request), incident_id,
                                                    action=data.action, note=data.note,
                                                    account_user_id=data.account_user_id))

    @post("/incidents/{incident_id:uuid}/containment", status_code=200, summary="Record that the incident is contained")
    async def contain(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                      incident_id: uuid.UUID, data: NoteBody) -> IncidentDetail:
        return _detail(await service.contain(db_session, ctx, actor_of(request), incident_id, data.note))

    @post("/incidents/{incident_id:uuid}/reports", status_code=200,
          summary="Record a report to the authorities: which, when, reference")
    async def report(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     incident_id: uuid.UUID, data: ReportBody) -> IncidentDetail:
        _aware(data.reported_at, "reported_at")
        return _detail(await service.record_report(db_session, ctx, actor_of(request), incident_id,
                                                   authorities=data.authorities, reported_at=data.reported_at,
                                                   reference=data.reference))

    @post("/incidents/{incident_id:uuid}/closure", status_code=200,
          summary="Close: contained, reported if a leak, with the review")
    async def close(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                    incident_id: uuid.UUID, data: ReviewBody) -> IncidentDetail:
        return _detail(await service.close_incident(db_session, ctx, actor_of(request), incident_id,
                                                    data.review))

