"""Ratings, complaints and adverse-event reports."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.quality_views import AdverseEventView, ComplaintView, RatingView
from hospital.identity.guards import principal_of, requires_admin, requires_patient, requires_role
from hospital.identity.models import Role
from hospital.quality import service
from hospital.quality.models import AdverseEvent, Complaint
from hospital.web.http import actor_of

__all__ = ["QualityController"]


class RatingBody(msgspec.Struct, forbid_unknown_fields=True):
    score: int
    comment: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class ComplaintBody(msgspec.Struct, forbid_unknown_fields=True):
    category: str
    description: Annotated[str, msgspec.Meta(max_length=4000)]
    visit_id: uuid.UUID | None = None


class ComplaintAnswerBody(msgspec.Struct, forbid_unknown_fields=True):
    outcome: str  # resolved | dispute
    response: Annotated[str, msgspec.Meta(max_length=4000)]


class AdverseEventBody(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    severity: str
    occurred_on: date
    description: Annotated[str, msgspec.Meta(max_length=4000)]
    visit_id: uuid.UUID | None = None
    drug_code: str | None = None


def complaint_view(c: Complaint) -> ComplaintView:
    return ComplaintView(
        complaint_id=str(c.id), visit_id=str(c.visit_id) if c.visit_id else None, category=c.category,
        description=c.description, status=c.status, response=c.response, filed_at=c.created_at.isoformat(),
        handled_at=c.handled_at.isoformat() if c.handled_at else None)


def adverse_event_view(e: AdverseEvent) -> AdverseEventView:
    return AdverseEventView(
        adverse_event_id=str(e.id), kind=e.kind, severity=e.severity, occurred_on=e.occurred_on.isoformat(),
        description=e.description, drug_code=e.drug_code, visit_id=str(e.visit_id) if e.visit_id else None,
        reporter_role=e.reporter_role)


requires_reporter = requires_role(Role.PATIENT, Role.DOCTOR, Role.PHARMACIST)


class QualityController(Controller):
    path = "/api"
    tags = ["quality"]

    @post("/visits/{visit_id:uuid}/rating", guards=[requires_patient], summary="Rate an ended visit (QA-01)")
    async def rate(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                   visit_id: uuid.UUID, data: RatingBody) -> RatingView:
        rating = await service.rate_visit(db_session, ctx, actor_of(request), principal_of(request), visit_id,
                                          data.score, data.comment)
        return RatingView(rating_id=str(rating.id), visit_id=str(visit_id), score=rating.score)

    @post("/complaints", guards=[requires_patient], summary="File a complaint (QA-01)")
    async def complain(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       data: ComplaintBody) -> ComplaintView:
        return complaint_view(await service.file_complaint(
            db_session, ctx, actor_of(request), principal_of(request), category=data.category,
            description=data.description, visit_id=data.visit_id))

    @get("/complaints", guards=[requires_role(Role.PATIENT, Role.ADMIN)],
         summary="A patient's own complaints; all of them for an administrator")
    async def complaints(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> list[ComplaintView]:
        return [complaint_view(c) for c in await service.list_complaints(db_session, principal_of(request))]

    @post("/complaints/{complaint_id:uuid}/answer", guards=[requires_admin], status_code=200,
          summary="Answer a complaint: resolved, or escalated to a medical dispute")
    async def answer(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     complaint_id: uuid.UUID, data: ComplaintAnswerBody) -> ComplaintView:
        return complaint_view(await service.answer_complaint(db_session, ctx, actor_of(request), complaint_id,
                                                             data.outcome, data.response))

    @post("/adverse-events", guards=[requires_reporter], summary="Report a medical or drug adverse event (QA-01)")
    async def report(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     data: AdverseEventBody) -> AdverseEventView:
        report = service.AdverseEventReport(**msgspec.structs.asdict(data))
        return adverse_event_view(await service.report_adverse_event(db_session, ctx, actor_of(request),
                                                                     principal_of(request), report))

    @get("/adverse-events", guards=[requires_admin], summary="Every adverse-event report")
    async def adverse_events(self, db_session: AsyncSession) -> list[AdverseEventView]:
        return [adverse_event_view(e) for e in await service.list_adverse_events(db_session)]
