"""Administration of staff: admission with credentials and photo, suspension, renewal (admin only)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.biometrics.service import consent as biometric_consent
from hospital.context import HospitalContext
from hospital.contracts.staff import BiometricConsentView, Credential, StaffView
from hospital.core.errors import InvalidInput
from hospital.identity.guards import requires_admin, requires_clinician
from hospital.staff import service
from hospital.staff.models import StaffMember
from hospital.web.http import actor_of

__all__ = ["BiometricConsentController", "StaffController"]


class CredentialBody(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    number: str
    valid_until: date | None = None


class AdmissionBody(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    username: Annotated[str, msgspec.Meta(min_length=3, max_length=64)]
    initial_password: Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
    real_name: Annotated[str, msgspec.Meta(min_length=2, max_length=60)]
    id_number: str
    title: str
    clinical_years: Annotated[int, msgspec.Meta(ge=0, le=80)]
    departments: list[str]
    credentials: list[CredentialBody]
    practice_category: str = ""
    practice_scope: str = ""
    practice_institution: str = ""


class BiometricConsentBody(msgspec.Struct, forbid_unknown_fields=True):
    version: Annotated[str, msgspec.Meta(max_length=16)]
    text_sha256: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


class WithdrawalBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class SuspensionBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class RenewalBody(msgspec.Struct, forbid_unknown_fields=True):
    credentials: list[CredentialBody]


class DepartmentsBody(msgspec.Struct, forbid_unknown_fields=True):
    departments: Annotated[list[Annotated[str, msgspec.Meta(max_length=8)]], msgspec.Meta(max_length=40)]


def staff_view(member: StaffMember) -> StaffView:
    """What an administrator sees: never the ID number in clear, the photo or the face template."""
    return StaffView(
        staff_id=str(member.id), user_id=str(member.user_id), kind=member.kind, real_name=member.real_name,
        title=member.title, departments=list(member.departments), practice_category=member.practice_category,
        practice_scope=member.practice_scope, practice_institution=member.practice_institution,
        clinical_years=member.clinical_years, credentials=[msgspec.convert(c, Credential) for c in member.credentials],
        suspended=member.suspended, suspension_reason=member.suspension_reason, version=member.version)


@dataclass
class AdmissionForm:
    """The admission as the handler reads it (multipart/form-data): `application`, an `AdmissionBody` as JSON text,
    and `photo`, the clinician's face picture that enrols the face (STAFF-01/02, FACE-01)."""

    application: str
    photo: UploadFile


def _admission(raw: str) -> service.Admission:
    try:
        body = msgspec.json.decode(raw.encode(), type=AdmissionBody)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"application: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise InvalidInput("application is not valid JSON") from exc
    data = msgspec.structs.asdict(body)
    data["credentials"] = [{**msgspec.structs.asdict(c), "valid_until": c.valid_until.isoformat() if c.valid_until
                            else None} for c in body.credentials]
    return service.Admission(**data)


class StaffController(Controller):
    path = "/api/staff"
    tags = ["staff"]
    guards = [requires_admin]

    @post("/", summary="Admit a clinician with credentials and photo; the photo enrols the face (STAFF-01/02, FACE-01)",
          description="multipart/form-data: the text field `application` (JSON: kind, username, initial_password, "
                      "real_name, id_number, title, clinical_years, departments, credentials [{kind, number, "
                      "valid_until}], practice_category, practice_scope, practice_institution) and the file `photo`.")
    async def admit(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                    data: Annotated[AdmissionForm, Body(media_type=RequestEncodingType.MULTI_PART)]) -> StaffView:
        admission = _admission(data.application)
        photo = data.photo
        member = await service.admit_staff(db_session, ctx, actor_of(request), admission, await photo.read(),
                                           photo.content_type)
        return staff_view(member)

    @get("/", summary="Every admitted clinician")
    async def list_staff(self, db_session: AsyncSession) -> list[StaffView]:
        return [staff_view(m) for m in await service.list_staff(db_session)]

    @get("/{staff_id:uuid}", summary="One clinician")
    async def get_staff(self, db_session: AsyncSession, staff_id: uuid.UUID) -> StaffView:
        return staff_view(await service.get_staff(db_session, staff_id))

    @post("/{staff_id:uuid}/suspension", status_code=200, summary="Suspend practice (STAFF-03, QA-02)")
    async def suspend(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                      staff_id: uuid.UUID, data: SuspensionBody) -> StaffView:
        return staff_view(await service.set_suspension(db_session, ctx, actor_of(request), staff_id, True, data.reason))

    @delete("/{staff_id:uuid}/suspension", status_code=200, summary="Lift a suspension")
    async def reinstate(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                        staff_id: uuid.UUID) -> StaffView:
        return staff_view(await service.set_suspension(db_session, ctx, actor_of(request), staff_id, False, None))

    @put("/{staff_id:uuid}/credentials", summary="Renew credentials (new numbers or expiry dates)")
    async def renew(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                    staff_id: uuid.UUID, data: RenewalBody) -> StaffView:
        credentials = [{**msgspec.structs.asdict(c), "valid_until": c.valid_until.isoformat() if c.valid_until else None}
                       for c in data.credentials]
        return staff_view(await service.renew_credentials(db_session, ctx, actor_of(request), staff_id, credentials))

    @put("/{staff_id:uuid}/departments", summary="Assign departments, within the licence and the practice scope "
         "(INS-02, STAFF-03)")
    async def assign(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     staff_id: uuid.UUID, data: DepartmentsBody) -> StaffView:
        return staff_view(await service.assign_departments(db_session, ctx, actor_of(request), staff_id,
                                                           data.departments))


async def _consent_view(db_session: AsyncSession, user_id: uuid.UUID) -> BiometricConsentView:
    consent = await biometric_consent.biometric_consent_of(db_session, user_id)
    standing = consent is not None and consent.withdrawn_at is None
    return msgspec.convert({"version": biometric_consent.CONSENT_VERSION, "text": biometric_consent.CONSENT_TEXT,
            "text_sha256": biometric_consent.CONSENT_SHA256, "given": standing,
            "given_version": consent.version if consent else None,
            "given_at": consent.given_at.isoformat() if consent else None,
            "client_address": consent.client_address if consent else None,
            "withdrawn_at": consent.withdrawn_at.isoformat() if consent and consent.withdrawn_at else None},
        BiometricConsentView)


class BiometricConsentController(Controller):
    """The clinician's own biometric consent (FACE-01): read the text, give it, withdraw it. The administrator
    admits with a photo; the enrolment takes effect only once the clinician gives this consent."""

    path = "/api/me/biometric-consent"
    tags = ["staff"]
    guards = [requires_clinician]

    @get("/", summary="The biometric consent text and whether the caller has given it (FACE-01)")
    async def read(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> BiometricConsentView:
        return await _consent_view(db_session, actor_of(request).user_id or uuid.UUID(int=0))

    @post("/", summary="Give the separate biometric consent: version, text hash, time and address kept (FACE-01)")
    async def give(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                   data: BiometricConsentBody) -> BiometricConsentView:
        actor = actor_of(request)
        await biometric_consent.give_biometric_consent(db_session, ctx, actor, data.version, data.text_sha256)
        assert actor.user_id is not None
        return await _consent_view(db_session, actor.user_id)

    @post("/withdrawal", status_code=200, summary="Withdraw the biometric consent: the face template is deleted "
          "and practice stops (FACE-01)")
    async def withdraw(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       data: WithdrawalBody) -> BiometricConsentView:
        actor = actor_of(request)
        await service.withdraw_biometric_consent(db_session, ctx, actor, data.reason)
        assert actor.user_id is not None
        return await _consent_view(db_session, actor.user_id)
