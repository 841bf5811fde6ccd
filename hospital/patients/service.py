"""Registration of patients and their own real-name record."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import Conflict, NotFound
from hospital.core.messages import say
from hospital.identity.events import OwnProfileSection
from hospital.identity.models import Role, User
from hospital.identity.service import create_user, login_hash
from hospital.identity.tokens import Principal
from hospital.patients import rules
from hospital.patients.models import Patient

__all__ = ["Registration", "get_patient_for_user", "new_medical_record_number", "own_record", "profile_section",
           "register_patient"]


def new_medical_record_number() -> str:
    """A 病历号: "MR" and 10 random digits. Random rather than counted so that registering takes no lock and the
    number says nothing about when or how many; the unique column refuses the rare repeat."""
    return f"MR{secrets.randbelow(10**10):010d}"


@dataclass(frozen=True, slots=True)
class Registration:
    real_name: str
    id_number: str
    phone: str
    password: str


async def register_patient(session: AsyncSession, ctx: HospitalContext, actor: Actor, data: Registration) -> Patient:
    today = ctx.today()
    name = rules.check_real_name(data.real_name)
    resident = rules.check_resident_id(data.id_number, today)
    phone = rules.check_phone(data.phone)
    id_hash = ctx.cipher.keyed_hash(resident.number, context="id_number")
    phone_hash = ctx.cipher.keyed_hash(phone, context="phone")
    if (await session.execute(select(Patient.id).where(Patient.id_number_hash == id_hash))).first():
        raise Conflict(say("patients.id_registered"), rule_id="PAT-01")
    taken = select(User.id).where(User.login_hash == login_hash(ctx, phone))
    if (await session.execute(select(Patient.id).where(Patient.phone_hash == phone_hash))).first() or (
        await session.execute(taken)
    ).first():
        raise Conflict(say("patients.phone_registered"), rule_id="PAT-01")
    user = await create_user(session, ctx, username=phone, password=data.password, role=Role.PATIENT,
                             display_name=name)
    patient = Patient(
        user_id=user.id, real_name=name,
        id_number_sealed=ctx.cipher.seal_text(resident.number, context="patient.id_number"), id_number_hash=id_hash,
        phone_sealed=ctx.cipher.seal_text(phone, context="patient.phone"), phone_hash=phone_hash,
        birth_date=resident.birth_date, sex=resident.sex, medical_record_number=new_medical_record_number(),
    )
    session.add(patient)
    await session.flush()
    await append_audit(session, Actor(user.id, Role.PATIENT, actor.request_id, actor.client_address),
                       "patient.registered", subject_type="patient", subject_id=patient.id, rule_id="PAT-01")
    await session.commit()
    return patient


async def get_patient_for_user(session: AsyncSession, user_id: uuid.UUID) -> Patient:
    patient = (await session.execute(select(Patient).where(Patient.user_id == user_id))).scalar_one_or_none()
    if patient is None:
        raise NotFound("no patient record for this user")
    return patient


def masked(value: str, keep_start: int, keep_end: int) -> str:
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end:]


async def own_record(session: AsyncSession, ctx: HospitalContext, principal: Principal) -> dict[str, Any]:
    patient = await get_patient_for_user(session, principal.user_id)
    id_number = ctx.cipher.open_text(patient.id_number_sealed, context="patient.id_number")
    phone = ctx.cipher.open_text(patient.phone_sealed, context="patient.phone")
    return {
        "patient_id": str(patient.id), "real_name": patient.real_name,
        "id_number": masked(id_number, 6, 4), "phone": masked(phone, 3, 4),
        "birth_date": patient.birth_date.isoformat(), "sex": patient.sex,
        "age": rules.age_on(patient.birth_date, ctx.today()),
    }


async def profile_section(session: AsyncSession, ctx: HospitalContext, asked: OwnProfileSection) -> dict[str, Any] | None:
    """Answers identity's `OwnProfileSection`: a patient's profile shows their own real-name record."""
    return await own_record(session, ctx, asked.principal) if asked.role == Role.PATIENT else None
