"""Patient self-registration."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.people import Registered
from hospital.patients import service
from hospital.web.http import PUBLIC, actor_of

__all__ = ["PatientController"]


class RegistrationBody(msgspec.Struct, forbid_unknown_fields=True):
    real_name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    id_number: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    phone: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class PatientController(Controller):
    path = "/api/patients"
    tags = ["patients"]

    @post("/", opt=PUBLIC, summary="Real-name self-registration (PAT-01); the username is the phone number")
    async def register(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       data: Annotated[RegistrationBody, Body()]) -> Registered:
        patient = await service.register_patient(db_session, ctx, actor_of(request),
                                                 service.Registration(**msgspec.structs.asdict(data)))
        return Registered(patient_id=str(patient.id), real_name=patient.real_name,
                          birth_date=patient.birth_date.isoformat(), sex=patient.sex)
