"""Use cases of the institution: read the licence in force, publish licence changes and departments."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.contracts import institution as contracts
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import Conflict, NotFound, ServiceStopped
from hospital.core.outbox import emit
from hospital.institution import rules
from hospital.institution.models import Department, Licence, ServiceStop

__all__ = [
    "LicenceInput",
    "active_service_stop",
    "all_departments",
    "approved_department_codes",
    "confirm_service_stop",
    "current_licence",
    "department_name",
    "pending_service_stop",
    "public_institution",
    "record_licence",
    "require_licence_in_force",
    "resume_service",
    "set_department",
    "stop_service",
]


@dataclass(frozen=True, slots=True)
class LicenceInput:
    licence_number: str
    institution_name: str
    internet_hospital_name: str
    issuer: str
    valid_from: date
    valid_until: date
    service_modes: list[str]
    address: str = ""
    legal_representative: str = ""


async def current_licence(session: AsyncSession) -> Licence | None:
    return (await session.execute(select(Licence).order_by(Licence.created_at.desc()).limit(1))).scalar_one_or_none()  # type: ignore[attr-defined]


async def require_licence_in_force(session: AsyncSession, ctx: HospitalContext) -> rules.LicenceFacts:
    """Every clinical use case calls this first: the licence is in force (INS-01) and the hospital has not
    stopped service (QA-02)."""
    licence = await current_licence(session)
    facts = None if licence is None else rules.LicenceFacts(
        licence.licence_number, licence.valid_from, licence.valid_until, tuple(licence.service_modes))
    in_force = rules.check_licence_in_force(facts, ctx.today())
    stop = await active_service_stop(session)
    rules.check_service_open(stop.reason if stop else None)
    return in_force


async def active_service_stop(session: AsyncSession) -> ServiceStop | None:
    """The stop in force: confirmed by a second administrator and not resumed."""
    query = select(ServiceStop).where(ServiceStop.resumed_at == None, ServiceStop.confirmed_at != None).order_by(  # noqa: E711
        ServiceStop.created_at.desc()).limit(1)  # type: ignore[attr-defined]
    return (await session.execute(query)).scalar_one_or_none()


async def pending_service_stop(session: AsyncSession) -> ServiceStop | None:
    """A stop asked for and waiting for the second administrator."""
    query = select(ServiceStop).where(ServiceStop.resumed_at == None, ServiceStop.confirmed_at == None).order_by(  # noqa: E711
        ServiceStop.created_at.desc()).limit(1)  # type: ignore[attr-defined]
    return (await session.execute(query)).scalar_one_or_none()


async def stop_service(session: AsyncSession, ctx: HospitalContext, actor: Actor, reason_code: str,
                       reason: str) -> ServiceStop:
    """QA-02: ask to stop the whole clinical service, with a coded reason (`service_stop_reasons.csv`); it takes
    effect when a second administrator confirms it (`confirm_service_stop`). A department (its approval) or a
    clinician (a suspension) is stopped by one administrator."""
    text = rules.check_service_stop_reason(reason_code, reason)
    if await active_service_stop(session) is not None:
        raise Conflict("service is already stopped", rule_id="QA-02")
    if await pending_service_stop(session) is not None:
        raise Conflict("a stop is already waiting for a second administrator's confirmation", rule_id="QA-02")
    stop = ServiceStop(reason=text, reason_code=reason_code, stopped_by_user_id=actor.user_id)
    session.add(stop)
    await session.flush()
    await append_audit(session, actor, "institution.service_stop_requested", subject_type="service_stop",
                       subject_id=stop.id, rule_id="QA-02", detail={"reason_code": reason_code, "reason": text})
    await session.commit()
    return stop


async def confirm_service_stop(session: AsyncSession, ctx: HospitalContext, actor: Actor,
                               stop_id: uuid.UUID) -> ServiceStop:
    """The second administrator confirms: service stops now, audited and reported to the platform."""
    stop = await pending_service_stop(session)
    if stop is None or stop.id != stop_id:
        raise NotFound("no stop of that id is waiting for confirmation")
    rules.check_service_stop_confirmation(stop.stopped_by_user_id, actor.user_id)
    stop.confirmed_at, stop.confirmed_by_user_id = ctx.now(), actor.user_id
    stop.touch()
    await session.flush()
    await append_audit(session, actor, "institution.service_stopped", subject_type="service_stop",
                       subject_id=stop.id, rule_id="QA-02",
                       detail={"reason_code": stop.reason_code, "reason": stop.reason,
                               "requested_by": stop.stopped_by_user_id, "confirmed_by": actor.user_id})
    await emit(session, "institution.service_stopped", subject_type="institution", subject_id="service",
               version=int(stop.confirmed_at.timestamp() * 1000),
               payload=contracts.ServiceStopped(reason=f"[{stop.reason_code}] {stop.reason}",
                                                stopped_at=stop.confirmed_at))
    await session.commit()
    return stop


async def resume_service(session: AsyncSession, ctx: HospitalContext, actor: Actor) -> ServiceStop:
    """Resume service (one administrator), or withdraw a stop still waiting for its confirmation."""
    stop = await active_service_stop(session)
    if stop is None:
        pending = await pending_service_stop(session)
        if pending is None:
            raise Conflict("service is not stopped")
        pending.resumed_at, pending.resumed_by_user_id = ctx.now(), actor.user_id
        pending.touch()
        await session.flush()
        await append_audit(session, actor, "institution.service_stop_withdrawn", subject_type="service_stop",
                           subject_id=pending.id, rule_id="QA-02")
        await session.commit()
        return pending
    stop.resumed_at, stop.resumed_by_user_id = ctx.now(), actor.user_id
    stop.touch()
    await session.flush()
    await append_audit(session, actor, "institution.service_resumed", subject_type="service_stop",
                       subject_id=stop.id, rule_id="QA-02")
    await emit(session, "institution.service_resumed", subject_type="institution", subject_id="service",
               version=int(stop.resumed_at.timestamp() * 1000),
               payload=contracts.ServiceResumed(resumed_at=stop.resumed_at))
    await session.commit()
    return stop


async def approved_department_codes(session: AsyncSession) -> set[str]:
    rows = await session.execute(select(Department.code).where(Department.approved == True))  # noqa: E712
    return set(rows.scalars().all())


async def department_name(session: AsyncSession, code: str) -> str | None:
    """The name of the 诊疗科目 `code` on record, None if there is none."""
    return (await session.execute(select(Department.name).where(Department.code == code))).scalar_one_or_none()


async def all_departments(session: AsyncSession) -> list[dict[str, Any]]:
    """Every department on record, approved or not, for the administrator."""
    rows = (await session.execute(select(Department).order_by(Department.code))).scalars().all()
    return [{"code": d.code, "name": d.name, "approved": d.approved} for d in rows]


async def record_licence(session: AsyncSession, actor: Actor, data: LicenceInput) -> Licence:
    """Record a new or renewed licence, its fields checked by their formats (INS-01); the newest row is the one
    in force. Reported to the platform."""
    rules.check_licence_fields(rules.LicenceText(
        data.licence_number, data.institution_name, data.internet_hospital_name, data.issuer, data.valid_from,
        data.valid_until, tuple(data.service_modes), data.address, data.legal_representative))
    licence = Licence(**asdict(data))
    session.add(licence)
    await session.flush()
    await append_audit(session, actor, "institution.licence_recorded", subject_type="licence", subject_id=licence.id,
                       detail={"licence_number": data.licence_number, "valid_until": data.valid_until})
    await emit(session, "institution.licence", subject_type="institution", subject_id=data.licence_number,
               payload=_licence_event(licence), version=await _licence_version(session))
    await session.commit()
    return licence


async def _licence_version(session: AsyncSession) -> int:
    return len((await session.execute(select(Licence.id))).all())


def _licence_payload(licence: Licence) -> dict[str, Any]:
    return {
        "licence_number": licence.licence_number, "institution_name": licence.institution_name,
        "internet_hospital_name": licence.internet_hospital_name, "issuer": licence.issuer,
        "valid_from": licence.valid_from.isoformat(), "valid_until": licence.valid_until.isoformat(),
        "service_modes": licence.service_modes, "address": licence.address,
        "legal_representative": licence.legal_representative,
    }


def _licence_event(licence: Licence) -> contracts.LicenceRecorded:
    return contracts.LicenceRecorded(
        licence_number=licence.licence_number, institution_name=licence.institution_name,
        internet_hospital_name=licence.internet_hospital_name, issuer=licence.issuer,
        valid_from=licence.valid_from, valid_until=licence.valid_until, service_modes=list(licence.service_modes),
        address=licence.address, legal_representative=licence.legal_representative)


async def set_department(session: AsyncSession, actor: Actor, code: str, name: str, approved: bool,
                         senior_physicians: list[rules.SeniorPhysician] | None = None) -> Department:
    """The administrator sets a department (INS-02). Opening one (approving a department that is new or not
    approved) needs the PD 8(二) evidence: one 正高 and one 副高 physician of the speciality, kept with it;
    withdrawing or renaming needs nothing."""
    existing = (await session.execute(select(Department).where(Department.code == code))).scalar_one_or_none()
    opening = approved and (existing is None or not existing.approved)
    if opening:
        rules.check_department_opening(code, senior_physicians or [])
    return await _store_department(session, actor, code, name, approved,
                                   senior_physicians=[asdict(p) for p in senior_physicians or []] if opening else None)


async def _store_department(session: AsyncSession, actor: Actor, code: str, name: str, approved: bool, *,
                            senior_physicians: list[dict[str, Any]] | None = None) -> Department:
    # Private: every path (the admin API, the demo seed, an import, a test fixture) opens a department through
    # `set_department`, so none opens one without the PD 8(二) evidence (INS-02).
    department = (await session.execute(select(Department).where(Department.code == code))).scalar_one_or_none()
    if department is None:
        department = Department(code=code, name=name, approved=approved, senior_physicians=senior_physicians)
        session.add(department)
    else:
        department.name, department.approved = name, approved
        if senior_physicians is not None:
            department.senior_physicians = senior_physicians
        department.touch()
    await session.flush()
    await append_audit(session, actor, "institution.department_set", subject_type="department", subject_id=code,
                       detail={"name": name, "approved": approved, "senior_physicians": senior_physicians})
    await emit(session, "institution.department", subject_type="department", subject_id=code,
               payload=contracts.DepartmentSet(code=code, name=name, approved=approved),
               version=int(department.updated_at.timestamp() * 1000))
    await session.commit()
    return department


async def public_institution(session: AsyncSession, ctx: HospitalContext) -> dict[str, Any]:
    """What anyone may read without logging in (INS-03, grown by the disclosure page)."""
    licence = await current_licence(session)
    departments = (await session.execute(select(Department).order_by(Department.code))).scalars().all()
    facts = None if licence is None else rules.LicenceFacts(
        licence.licence_number, licence.valid_from, licence.valid_until, tuple(licence.service_modes))
    in_force = True
    try:
        rules.check_licence_in_force(facts, ctx.today())
    except ServiceStopped:
        in_force = False
    stop = await active_service_stop(session)
    pending = await pending_service_stop(session)
    return {
        "name": licence.internet_hospital_name if licence else ctx.settings.hospital_name,
        "licence": _licence_payload(licence) if licence else None,
        "licence_in_force": in_force,
        "service_stopped": stop is not None,
        "service_stop_reason": stop.reason if stop else None,
        "service_stop_reason_code": stop.reason_code if stop else None,
        "service_stop_pending": pending is not None,
        "departments": [{"code": d.code, "name": d.name} for d in departments if d.approved],
    }
