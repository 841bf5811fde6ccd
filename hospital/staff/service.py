"""Staff admission, suspension and credential renewal (STAFF-01 … STAFF-04), with face enrolment (FACE-01)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.biometrics.service import consent as biometric_consent
from hospital.biometrics.service import sessions as practice_sessions
from hospital.biometrics.service import verification as face_verification
from hospital.context import HospitalContext
from hospital.contracts.staff import Credential, DoctorBusinessChanged, StaffRecord
from hospital.core.audit import Actor, append_audit
from hospital.core.blobs import store_blob
from hospital.core.errors import AccessRefused, Conflict, InvalidInput, NotFound, RuleViolation
from hospital.core.events import publish
from hospital.core.outbox import emit
from hospital.core.retention import RetentionClass
from hospital.identity.events import MayOpenSession
from hospital.identity.models import User
from hospital.identity.service import create_user, end_sessions, login_hash
from hospital.institution.rules import check_department_approved
from hospital.institution.service import approved_department_codes, require_licence_in_force
from hospital.patients.rules import ResidentId, check_resident_id
from hospital.staff import rules
from hospital.staff.events import ClinicianAdmitted, SuspensionChanged
from hospital.staff.models import StaffMember

__all__ = ["Admission", "admit_staff", "assign_departments", "current_record", "get_staff", "list_staff",
           "renew_credentials",
           "require_can_practise", "require_clinical_act", "set_suspension", "staff_for_user", "standing_of",
           "withdraw_biometric_consent"]


@dataclass(frozen=True, slots=True)
class Admission:
    kind: str
    username: str
    initial_password: str
    real_name: str
    id_number: str
    title: str
    clinical_years: int
    departments: list[str]
    credentials: list[dict[str, Any]]
    practice_category: str = ""
    practice_scope: str = ""
    practice_institution: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _credentials(raw: list[dict[str, Any]]) -> tuple[rules.Credential, ...]:
    try:
        return tuple(rules.Credential(str(c["kind"]), str(c["number"]),
                                      date.fromisoformat(c["valid_until"]) if c.get("valid_until") else None)
                     for c in raw)
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidInput("each credential needs kind, number and an ISO valid_until (or none)") from exc


def standing_of(member: StaffMember) -> rules.StaffStanding:
    return rules.StaffStanding(rules.StaffKind(member.kind), member.suspended, tuple(member.departments),
                               _credentials(member.credentials), member.practice_scope)


async def admit_staff(session: AsyncSession, ctx: HospitalContext, actor: Actor, data: Admission,
                      photo: bytes | None, photo_type: str | None) -> StaffMember:
    ctx.events(ClinicianAdmitted)  # an unwired context refuses before any work, not after the photo is stored
    today = ctx.today()
    try:
        kind = rules.StaffKind(data.kind)
    except ValueError as exc:
        raise InvalidInput(f"kind must be one of {[k.value for k in rules.StaffKind]}") from exc
    resident: ResidentId | None
    try:
        resident = check_resident_id(data.id_number, today)
    except RuleViolation:
        resident = None
    application = rules.StaffApplication(
        kind=kind, real_name=data.real_name, id_number_valid=resident is not None, has_photo=bool(photo),
        title=data.title, clinical_years=data.clinical_years, departments=tuple(data.departments),
        credentials=_credentials(data.credentials), practice_category=data.practice_category,
        practice_scope=data.practice_scope, practice_institution=data.practice_institution)
    rules.check_admission(application, today, await approved_department_codes(session))
    assert resident is not None and photo is not None
    id_hash = ctx.cipher.keyed_hash(resident.number, context="id_number")
    if (await session.execute(select(StaffMember.id).where(StaffMember.id_number_hash == id_hash))).first():
        raise Conflict("a staff member with this resident ID number is already admitted")
    if (await session.execute(select(User.id).where(User.login_hash == login_hash(ctx, data.username)))).first():
        raise Conflict("this username is taken")
    # The costly face work comes after the cheap refusals and before the transaction writes anything.
    # FACE-01: the enrolment stays pending until the clinician gives their own consent in their own session
    template = await face_verification.encode_enrolment(ctx, photo, photo_type)
    # FACE-01 / STAFF-01: one face, one clinician; checked before anything (the photo's blob) is written.
    await face_verification.check_face_unique(session, ctx, template)

    user = await create_user(session, ctx, username=data.username, password=data.initial_password, role=kind.value,
                             display_name=data.real_name)
    photo_blob = await store_blob(session, ctx.blob_store(), photo, content_type=photo_type or "image/jpeg",
                                  retention=RetentionClass.STAFF_RECORD, closed_on=today)
    member = StaffMember(
        user_id=user.id, kind=kind.value, real_name=data.real_name, sex=resident.sex, birth_date=resident.birth_date,
        id_number_sealed=ctx.cipher.seal_text(resident.number, context="staff.id_number"), id_number_hash=id_hash,
        title=data.title, practice_category=data.practice_category, practice_scope=data.practice_scope,
        practice_institution=data.practice_institution, clinical_years=data.clinical_years,
        departments=list(data.departments), credentials=[_credential_json(c) for c in application.credentials],
        photo_sha256=photo_blob.sha256, antimicrobial_grade=rules.antimicrobial_grade_for(kind.value, data.title))
    session.add(member)
    await session.flush()
    await face_verification.add_enrolment(session, ctx, actor, user_id=user.id, template_sealed=template,
                                   source="admission_photo")
    await append_audit(session, actor, "staff.admitted", subject_type="staff", subject_id=member.id,
                       rule_id={"doctor": "STAFF-01"}.get(kind.value, "STAFF-02"),
                       detail={"kind": kind.value, "departments": member.departments,
                               "antimicrobial_grade": member.antimicrobial_grade})
    await _report(session, ctx, member, resident.number)
    await publish(session, ctx, ClinicianAdmitted(member.id, user.id, kind.value, actor))
    await session.commit()
    return member


def _credential_json(c: rules.Credential) -> dict[str, str | None]:
    return {"kind": c.kind, "number": c.number, "valid_until": c.valid_until.isoformat() if c.valid_until else None}


def current_record(ctx: HospitalContext, member: StaffMember, id_number: str | None = None) -> StaffRecord:
    """The clinician's record as the platform holds it (STAFF-04); the ID number opened when not given."""
    if id_number is None:
        id_number = ctx.cipher.open_text(member.id_number_sealed, context="staff.id_number")
    return StaffRecord(
        staff_id=str(member.id), kind=member.kind, name=member.real_name, id_number=id_number, sex=member.sex,
        birth_date=member.birth_date, title=member.title,
        practice_category=member.practice_category, practice_scope=member.practice_scope,
        practice_institution=member.practice_institution, clinical_years=member.clinical_years,
        departments=list(member.departments), credentials=[msgspec.convert(c, Credential) for c in member.credentials],
        photo_sha256=member.photo_sha256, suspended=member.suspended, suspension_reason=member.suspension_reason)


async def _report(session: AsyncSession, ctx: HospitalContext, member: StaffMember, id_number: str) -> None:
    """STAFF-04: the platform holds every clinician's current record."""
    record = current_record(ctx, member, id_number)
    # REC-03: the resident ID number is sealed (StaffRecord.SEALED), not kept in clear
    await emit(session, "staff.record", subject_type="staff", subject_id=member.id, version=member.version,
               payload=record, cipher=ctx.cipher)


async def get_staff(session: AsyncSession, staff_id: uuid.UUID) -> StaffMember:
    member = await session.get(StaffMember, staff_id)
    if member is None:
        raise NotFound("no such staff member")
    return member


async def staff_for_user(session: AsyncSession, user_id: uuid.UUID) -> StaffMember | None:
    return (await session.execute(select(StaffMember).where(StaffMember.user_id == user_id))).scalar_one_or_none()


async def may_open_session(session: AsyncSession, ctx: HospitalContext, asked: MayOpenSession) -> bool:
    """Answers identity's `MayOpenSession`: a suspended clinician logs in only once reinstated (STAFF-03)."""
    member = await staff_for_user(session, asked.user_id)
    return member is None or not member.suspended


async def list_staff(session: AsyncSession) -> list[StaffMember]:
    return list((await session.execute(select(StaffMember).order_by(StaffMember.created_at))).scalars().all())  # type: ignore[arg-type]


async def _changed(session: AsyncSession, ctx: HospitalContext, actor: Actor, member: StaffMember, action: str,
                   detail: dict[str, Any], *, commit: bool = True) -> None:
    member.version += 1
    member.touch()
    await session.flush()
    await append_audit(session, actor, action, subject_type="staff", subject_id=member.id, rule_id="STAFF-03",
                       detail=detail)
    await _report(session, ctx, member, ctx.cipher.open_text(member.id_number_sealed, context="staff.id_number"))
    if commit:
        await session.commit()


async def set_suspension(session: AsyncSession, ctx: HospitalContext, actor: Actor, staff_id: uuid.UUID,
                         suspended: bool, reason: str | None, *, commit: bool = True) -> StaffMember:
    """Suspend or reinstate; `commit=False` leaves the change in the caller's transaction (a security incident's
    containment suspends the account and records the step in one transaction, SEC-02)."""
    member = await get_staff(session, staff_id)
    if suspended and not (reason or "").strip():
        raise InvalidInput("a suspension needs a reason")
    member.suspended, member.suspension_reason = suspended, (reason if suspended else None)
    if suspended:  # a suspended clinician's practice session ends now, not when its window runs out (FACE-02)
        await practice_sessions.end_practice_sessions(session, ctx, actor, member.user_id, reason="staff.suspended")
        # and so do their log-in sessions: no token of theirs reads anything more (SEC-01, STAFF-03)
        await end_sessions(session, ctx, actor, member.user_id, reason="staff.suspended")
    # signing revokes the certificate, or issues a new one on reinstatement
    await publish(session, ctx, SuspensionChanged(member.id, member.user_id, suspended, member.suspension_reason, actor))
    await emit(session, "staff.business", subject_type="staff", subject_id=member.id, version=member.version + 1,
               payload=DoctorBusinessChanged(staff_id=str(member.id), user_id=str(member.user_id), kind=member.kind,
                                             open=not suspended, reason=member.suspension_reason, at=ctx.now()),
               cipher=ctx.cipher)  # online business closes or opens again (openDoctorBusiness, SUP-02)
    await _changed(session, ctx, actor, member, "staff.suspended" if suspended else "staff.reinstated",
                   {"reason": reason}, commit=commit)
    return member


async def renew_credentials(session: AsyncSession, ctx: HospitalContext, actor: Actor, staff_id: uuid.UUID,
                            credentials: list[dict[str, Any]]) -> StaffMember:
    member = await get_staff(session, staff_id)
    renewed = {c.kind: c for c in _credentials(credentials)}
    rules.check_credentials_expire(tuple(renewed.values()))
    current = {c["kind"]: c for c in member.credentials}
    for kind, credential in renewed.items():
        current[kind] = _credential_json(credential)
    member.credentials = list(current.values())
    await _changed(session, ctx, actor, member, "staff.credentials_renewed", {"kinds": sorted(renewed)})
    return member


async def require_can_practise(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID,
                               department: str | None = None) -> StaffMember:
    """STAFF-03, called by every clinical act: not suspended, credentials valid, department assigned; and the
    clinician's own biometric consent stands (FACE-01: a withdrawal stops practice)."""
    member = await staff_for_user(session, user_id)
    if member is None:
        raise AccessRefused("STAFF-03", "no admitted staff record for this user")
    rules.check_can_practise(standing_of(member), ctx.today(), department)
    await biometric_consent.require_biometric_consent(session, user_id)
    return member


async def withdraw_biometric_consent(session: AsyncSession, ctx: HospitalContext, actor: Actor,
                                     reason: str) -> StaffMember:
    """The clinician withdraws their biometric consent (FACE-01): the template is deleted, practice sessions end,
    and practice stops (every clinical act refuses, `require_can_practise`); audited, and the platform learns
    that the clinician's online business is closed (SUP-02) with the current record (STAFF-04)."""
    assert actor.user_id is not None
    member = await staff_for_user(session, actor.user_id)
    if member is None:
        raise AccessRefused("FACE-01", "no admitted staff record for this user")
    if not reason.strip():
        raise InvalidInput("a withdrawal names its reason")
    await biometric_consent.withdraw_biometric_consent(session, ctx, actor, member.user_id, reason)
    why = "biometric consent withdrawn (FACE-01)"
    await emit(session, "staff.business", subject_type="staff", subject_id=member.id, version=member.version + 1,
               payload=DoctorBusinessChanged(staff_id=str(member.id), user_id=str(member.user_id), kind=member.kind,
                                             open=False, reason=why, at=ctx.now()),
               cipher=ctx.cipher)
    await _changed(session, ctx, actor, member, "staff.biometric_consent_withdrawn", {"reason": reason})
    return member



async def assign_departments(session: AsyncSession, ctx: HospitalContext, actor: Actor, staff_id: uuid.UUID,
                             departments: list[str]) -> StaffMember:
    """Change the departments a clinician serves: each approved on the licence (INS-02) and, for a doctor,
    within the registered 执业范围 (STAFF-03). Reported to the platform (STAFF-04)."""
    member = await get_staff(session, staff_id)
    chosen = sorted(dict.fromkeys(d.strip() for d in departments if d.strip()))
    if not chosen:
        raise RuleViolation("STAFF-03", "a clinician is assigned at least one department")
    approved = await approved_department_codes(session)
    for code in chosen:
        check_department_approved(code, approved)
    if member.kind == rules.StaffKind.DOCTOR:
        rules.check_departments_in_scope(member.practice_scope, chosen)
    before = list(member.departments)
    member.departments = chosen
    await _changed(session, ctx, actor, member, "staff.departments_assigned", {"from": before, "to": chosen})
    return member


async def require_clinical_act(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID, *,
                               department: str | None = None, licence_department: str | None = None) -> StaffMember:
    """The one guard of every clinical act (accept, start, EMR, prescribe, review, dispense), checked at the
    moment of acting, not only at booking: the licence is in force and the hospital has not stopped service
    (INS-01, QA-02); the clinician is not suspended, holds unexpired credentials and serves `department`
    within the registered scope (STAFF-03); the department the act belongs to (`licence_department`, else
    `department`) is still approved on the licence (INS-02)."""
    await require_licence_in_force(session, ctx)
    member = await require_can_practise(session, ctx, user_id, department)
    on_licence = licence_department or department
    if on_licence is not None:
        check_department_approved(on_licence, await approved_department_codes(session))
    return member
