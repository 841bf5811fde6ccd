"""HTTP for booking: publishing schedules and the public list of them (REV-06), and the doctor's queue.
Booking a visit and withdrawing it answer with the whole visit, so they are on the visit resource
(`visits.encounter.api`). Thin: parse, one service call, a plain view out.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.intake import PriorDiagnosisView
from hospital.contracts.visit_views import BookableSchedules, ScheduleView, VisitView
from hospital.core.errors import NotFound
from hospital.core.problems import refuses
from hospital.identity.guards import principal_of, requires_doctor, requires_patient
from hospital.visits.booking import service as booking
from hospital.visits.booking import views
from hospital.visits.intake.views import prior_diagnosis_view
from hospital.web.http import PUBLIC, actor_of

__all__ = ["DoctorQueueController", "PriorDiagnosisWithdrawalController", "ScheduleController"]


class ScheduleBody(msgspec.Struct, forbid_unknown_fields=True):
    department_code: Annotated[str, msgspec.Meta(pattern=r"^\d{2}(\.\d{2})?$")]
    starts_at: datetime
    ends_at: datetime
    capacity: Annotated[int, msgspec.Meta(ge=1, le=booking.MAX_CAPACITY)]
    modes: list[str] = msgspec.field(default_factory=lambda: list(booking.DEFAULT_MODES))


class ScheduleController(Controller):
    path = "/api/schedules"
    tags = ["visits"]

    @post("/", guards=[requires_doctor], summary="Publish one of the caller's consultation periods (REV-06)")
    async def publish(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                      data: ScheduleBody) -> ScheduleView:
        schedule = await booking.publish_schedule(db_session, ctx, actor_of(request), principal_of(request).user_id,
                                                  booking.ScheduleInput(**msgspec.structs.asdict(data)))
        return msgspec.convert(await views.schedule_detail(db_session, ctx, schedule), ScheduleView)

    @get("/", opt=PUBLIC, summary="Upcoming schedules with their free places (public, REV-06)")
    async def upcoming(self, db_session: AsyncSession, ctx: HospitalContext,
                       department: str | None = None) -> list[ScheduleView]:
        return msgspec.convert(await views.public_schedules(db_session, ctx, department), list[ScheduleView])

    @refuses(NotFound)  # the prior diagnosis named in the query
    @get("/bookable", guards=[requires_patient],
         summary="Upcoming schedules, each with whether the caller's prior diagnosis can be booked into it and why not")
    async def bookable(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       prior_diagnosis_id: uuid.UUID) -> BookableSchedules:
        return msgspec.convert(await views.bookable_schedules(db_session, ctx, actor_of(request),
                                                              principal_of(request).user_id, prior_diagnosis_id),
                               BookableSchedules)


class DoctorQueueController(Controller):
    path = "/api/doctor"
    tags = ["visits"]
    guards = [requires_doctor]

    @get("/queue", summary="The caller's visits still to be seen on a day (default today, China time), in order")
    async def queue(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                    day: date | None = None) -> list[VisitView]:
        return msgspec.convert(await views.doctor_queue(db_session, ctx, actor_of(request),
                                                        principal_of(request).user_id, day), list[VisitView])


class PriorDiagnosisWithdrawalController(Controller):
    """Withdrawing a prior diagnosis is booking's use case (only booking knows whether a visit used it), on the
    intake resource's path."""

    path = "/api/prior-diagnoses"
    tags = ["visits"]
    guards = [requires_patient]

    @post("/{prior_id:uuid}/withdrawal", status_code=200,
          summary="Withdraw one of the caller's prior diagnoses no visit was booked on (REV-01)")
    async def withdraw(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       prior_id: uuid.UUID) -> PriorDiagnosisView:
        record = await booking.withdraw_prior_diagnosis(db_session, ctx, actor_of(request),
                                                        principal_of(request).user_id, prior_id)
        return msgspec.convert(prior_diagnosis_view(record), PriorDiagnosisView)
