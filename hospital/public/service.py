"""The public disclosure (亮证经营, INS-03): everything a patient may read before logging in.

A read model above the areas (hospital/layers.py): it reads the licence, the clinicians and their signing
certificates, the schedules and the formulary's prices, so it lives in `public/`, not in the institution,
which every one of those areas stands on.

Licence and validity, approved departments, every practising clinician with title, registration number and
e-credential (the signing certificate, RX-05),
published schedules, service hours and modes, reply time limits, prices of services and drugs, the complaint
channel and the dispute procedure. What is not in the database (hours, reply limits, service prices,
complaints, dispute procedure) comes from the institution's reviewed file (hospital/institution/reference.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.errors import RuleViolation
from hospital.institution.models import Department
from hospital.institution.reference import load_disclosure_settings
from hospital.institution.service import public_institution
from hospital.prescriptions.formulary.tables import load_formulary
from hospital.prescriptions.formulary.values import Formulary
from hospital.signing.service import CredentialView, clinician_credentials
from hospital.staff.models import StaffMember
from hospital.staff.rules import check_can_practise
from hospital.staff.service import standing_of
from hospital.visits.booking.models import Schedule
from hospital.visits.booking.service import MODES, published_fees

__all__ = ["E_CREDENTIAL_NOTE", "disclosure"]

SCHEDULE_DAYS = 14  # how far ahead published schedules are listed

# The e-credential is the clinician's signing certificate from the hospital CA (RX-05): its serial and SHA-256
# fingerprint let anyone match a signed prescription to the clinician listed here.
E_CREDENTIAL_NOTE = ("the e-credential is the clinician's signing certificate issued by the hospital CA; a signed "
                     "prescription names its serial, and the CA certificate is at /.well-known/hospital-ca.pem")

# The certificate that registers each kind of clinician to practise (执业注册), shown as the registration number.
REGISTRATION_CREDENTIAL = {"doctor": "physician_practice", "nurse": "nurse_practice",
                           "pharmacist": "pharmacist_qualification"}


def _e_credential(credential: CredentialView | None) -> dict[str, Any] | None:
    if credential is None:
        return None
    return {"certificate_serial": credential.certificate_serial, "fingerprint_sha256": credential.fingerprint,
            "valid_from": credential.not_before.isoformat(), "valid_until": credential.not_after.isoformat()}


def _clinician(member: StaffMember, department_names: dict[str, str],
               credential: CredentialView | None) -> dict[str, Any]:
    wanted = REGISTRATION_CREDENTIAL.get(member.kind)
    registration = next((c for c in member.credentials if c.get("kind") == wanted), None)
    return {
        "name": member.real_name, "kind": member.kind, "title": member.title,
        "departments": [{"code": code, "name": department_names.get(code, code)} for code in member.departments],
        "practice_category": member.practice_category, "practice_scope": member.practice_scope,
        "registration": None if registration is None else {
            "kind": registration.get("kind"), "number": registration.get("number"),
            "valid_until": registration.get("valid_until")},
        "e_credential": _e_credential(credential),
    }


def _drug_prices(formulary: Formulary) -> list[dict[str, Any]]:
    # Controlled drugs are never prescribed online (RX-02), so they are not offered and not priced here.
    return [{"code": d.code, "name_zh": d.name_zh, "generic_name": d.generic_name, "form": d.form,
             "strength": f"{d.strength.normalize():f} {d.strength_unit}", "pack": f"{d.pack_size} {d.dispensing_unit}",
             "pack_size": d.pack_size, "dispensing_unit": d.dispensing_unit, "price_cny": f"{d.price_cny:.2f}"}
            for d in formulary if not d.is_controlled]


async def _schedules(session: AsyncSession, ctx: HospitalContext, doctors: dict[Any, StaffMember],
                     department_names: dict[str, str]) -> list[dict[str, Any]]:
    now, fees = ctx.now(), published_fees(ctx)  # a visit's price is its mode's published fee (INS-03)
    rows = (await session.execute(
        select(Schedule).where(Schedule.cancelled == False, Schedule.ends_at >= now,  # noqa: E712
                               Schedule.starts_at <= now + timedelta(days=SCHEDULE_DAYS))
        .order_by(Schedule.starts_at))).scalars().all()  # type: ignore[arg-type]
    return [{"doctor": doctors[s.doctor_user_id].real_name if s.doctor_user_id in doctors else "",
             "title": doctors[s.doctor_user_id].title if s.doctor_user_id in doctors else "",
             "department_code": s.department_code, "department": department_names.get(s.department_code, s.department_code),
             "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat(), "modes": s.modes,
             "prices": {m: fees[m] for m in s.modes if m in fees}, "capacity": s.capacity,
             "remaining": max(s.capacity - s.booked, 0)}
            for s in rows if s.doctor_user_id in doctors]


def _formulary(ctx: HospitalContext) -> Formulary:
    """The formulary, read once per context (the prescriptions area may have put it there already)."""
    formulary = ctx.formulary
    if formulary is None:
        formulary = ctx.formulary = load_formulary()
    return formulary


def _may_practise(member: StaffMember, today: date) -> bool:
    """Listed as practising only while STAFF-03 lets the clinician act: not suspended, credentials in force."""
    try:
        check_can_practise(standing_of(member), today)
    except RuleViolation:
        return False
    return True


async def disclosure(session: AsyncSession, ctx: HospitalContext, formulary: Formulary | None = None) -> dict[str, Any]:
    """Everything INS-03 names, for the public page. Suspended clinicians are not listed as practising."""
    settings = load_disclosure_settings(ctx.settings.data_dir, fallback=not ctx.settings.is_production)
    institution = await public_institution(session, ctx)
    department_names = {d.code: d.name for d in (await session.execute(select(Department))).scalars().all()}
    listed = (await session.execute(select(StaffMember).where(StaffMember.suspended == False)  # noqa: E712
                                    .order_by(StaffMember.kind, StaffMember.created_at))).scalars().all()  # type: ignore[arg-type]
    staff = [m for m in listed if _may_practise(m, ctx.today())]  # an expired credential is not "available"
    doctors = {m.user_id: m for m in staff if m.kind == "doctor"}
    # Only a certificate in force is an e-credential; a suspension revokes it (and the clinician is not listed).
    credentials = {c.staff_id: c for c in await clinician_credentials(session) if c.revoked_at is None}
    return {
        **institution,
        "clinicians": [_clinician(m, department_names, credentials.get(m.id)) for m in staff],
        "e_credential_note": E_CREDENTIAL_NOTE,
        "schedules": await _schedules(session, ctx, doctors, department_names),
        "service_hours": msgspec.to_builtins(settings.service_hours),
        # Only the modes booking accepts are advertised (INS-03): a mode in the file that cannot be booked is not
        # offered to the public.
        "service_modes": msgspec.to_builtins([m for m in settings.service_modes if m.code in MODES]),
        "reply_time_limits": msgspec.to_builtins([r for r in settings.reply_time_limits if r.mode in MODES]),
        "prices": {"services": msgspec.to_builtins(settings.service_prices),
                   "drugs": _drug_prices(formulary or _formulary(ctx))},
        "complaints": msgspec.to_builtins(settings.complaints),
        "dispute_procedure": msgspec.to_builtins(settings.dispute_procedure),
        "generated_at": ctx.now().isoformat(),
    }
