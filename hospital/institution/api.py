"""The institution's public face and its administration."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.institution_views import (
    DepartmentView,
    LicenceRecordedView,
    PublicInstitution,
    ServiceStopState,
    ServiceStopView,
)
from hospital.core.errors import InvalidTransition
from hospital.core.problems import refuses
from hospital.identity.guards import requires_admin
from hospital.institution import service
from hospital.institution.models import ServiceStop
from hospital.institution.rules import SeniorPhysician, service_stop_reasons
from hospital.web.http import PUBLIC, actor_of

__all__ = ["InstitutionController"]


class LicenceBody(msgspec.Struct, forbid_unknown_fields=True):
    licence_number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    institution_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    internet_hospital_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    issuer: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    valid_from: date
    valid_until: date
    service_modes: list[str]
    address: str = ""
    legal_representative: str = ""


class SeniorPhysicianBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    title: Annotated[str, msgspec.Meta(max_length=20)]
    practice_number: Annotated[str, msgspec.Meta(max_length=20)]


class DepartmentBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    approved: bool = True
    senior_physicians: Annotated[list[SeniorPhysicianBody], msgspec.Meta(max_length=20)] | None = None  # PD 8(二)


class ServiceStopBody(msgspec.Struct, forbid_unknown_fields=True):
    reason_code: Annotated[str, msgspec.Meta(max_length=40)]  # hospital/institution/data/service_stop_reasons.csv
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


def _stop_view(stop: ServiceStop) -> ServiceStopView:
    return ServiceStopView(
        stop_id=str(stop.id), stopped=stop.confirmed_at is not None and stop.resumed_at is None,
        pending_confirmation=stop.confirmed_at is None and stop.resumed_at is None,
        reason_code=stop.reason_code, reason=stop.reason, requested_at=stop.created_at.isoformat(),
        stopped_at=stop.confirmed_at.isoformat() if stop.confirmed_at else None,
        resumed_at=stop.resumed_at.isoformat() if stop.resumed_at else None)


class InstitutionController(Controller):
    path = "/api/institution"
    tags = ["institution"]

    @get("/", opt=PUBLIC, summary="Public disclosure: licence, approved departments (INS-03)")
    async def public(self, db_session: AsyncSession, ctx: HospitalContext) -> PublicInstitution:
        return msgspec.convert(await service.public_institution(db_session, ctx), PublicInstitution)

    @post("/licence", guards=[requires_admin], summary="Record a new or renewed licence (INS-01)")
    async def record_licence(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                             data: Annotated[LicenceBody, Body()]) -> LicenceRecordedView:
        licence = await service.record_licence(db_session, actor_of(request),
                                               service.LicenceInput(**msgspec.structs.asdict(data)))
        return LicenceRecordedView(id=str(licence.id), licence_number=licence.licence_number)

    @get("/departments", guards=[requires_admin], summary="Every department, approved or not (administration)")
    async def departments(self, db_session: AsyncSession) -> list[DepartmentView]:
        return msgspec.convert(await service.all_departments(db_session), list[DepartmentView])

    @put("/departments/{code:str}", guards=[requires_admin], summary="Set a 诊疗科目 and whether it is approved")
    async def set_department(self, request: Request[Any, Any, Any], db_session: AsyncSession, code: str,
                             data: Annotated[DepartmentBody, Body()]) -> DepartmentView:
        physicians = None if data.senior_physicians is None else [
            SeniorPhysician(p.name, p.title, p.practice_number) for p in data.senior_physicians]
        department = await service.set_department(db_session, actor_of(request), code, data.name, data.approved,
                                                  physicians)
        return DepartmentView(code=department.code, name=department.name, approved=department.approved)

    @post("/service-stop", guards=[requires_admin],
          summary="Ask to stop online clinical service with a coded reason; a second administrator confirms (QA-02)")
    async def stop(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                   data: ServiceStopBody) -> ServiceStopView:
        return _stop_view(await service.stop_service(db_session, ctx, actor_of(request), data.reason_code,
                                                     data.reason))

    @get("/service-stop", guards=[requires_admin], summary="The stop in force or waiting for confirmation, if any")
    async def current_stop(self, db_session: AsyncSession) -> ServiceStopState:
        stop = await service.active_service_stop(db_session) or await service.pending_service_stop(db_session)
        return ServiceStopState(stop=_stop_view(stop) if stop else None, reason_codes=dict(service_stop_reasons()))

    @post("/service-stop/{stop_id:uuid}/confirmation", guards=[requires_admin], status_code=200,
          summary="A second administrator confirms the stop: service stops now (QA-02)")
    async def confirm_stop(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                           stop_id: uuid.UUID) -> ServiceStopView:
        return _stop_view(await service.confirm_service_stop(db_session, ctx, actor_of(request), stop_id))

    @refuses(InvalidTransition)  # no stop in force (QA-02)
    @delete("/service-stop", guards=[requires_admin], status_code=200, summary="Resume online clinical service")
    async def resume(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                     ctx: HospitalContext) -> ServiceStopView:
        return _stop_view(await service.resume_service(db_session, ctx, actor_of(request)))
