"""HTTP for intake: the consent text and its acceptance (PAT-02), prior diagnoses with their documents
(REV-01, REV-02). Thin: parse, one service call, a plain view out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.intake import (
    Acceptances,
    ConsentAccepted,
    ConsentGuardian,
    ConsentText,
    DiagnosisChoice,
    PriorDiagnosisView,
)
from hospital.core.errors import InvalidInput
from hospital.identity.guards import principal_of, requires_patient
from hospital.visits.intake import service as intake
from hospital.visits.intake import views
from hospital.visits.intake.models import consent_guardian, open_prior
from hospital.visits.intake.rules.eligibility import Guardian
from hospital.visits.intake.service import PriorDiagnosisInput
from hospital.web.http import PUBLIC, actor_of, document_response

__all__ = ["ConsentController", "DiagnosisCatalogueController", "PriorDiagnosisController"]


class ConsentGuardianBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    id_number: Annotated[str, msgspec.Meta(min_length=15, max_length=18)]
    relationship: Annotated[str, msgspec.Meta(max_length=40)]


class AcceptanceBody(msgspec.Struct, forbid_unknown_fields=True):
    version: Annotated[str, msgspec.Meta(min_length=2, max_length=16)]
    text_sha256: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")] | None = None
    guardian: ConsentGuardianBody | None = None  # a minor's consent is the guardian's (PAT-02)


_PRIOR_FIELDS = ("icd10_code", "diagnosis_name", "document_type", "institution_name",
                 "institution_registration_number", "diagnosed_on")


@dataclass
class PriorDiagnosisForm:
    """A prior diagnosis as the handler reads it (multipart/form-data): its text fields, and the file `document`,
    the diagnosis document the doctor reads (REV-01). Blank text fields are refused by name (`missing`)."""

    icd10_code: str
    diagnosis_name: str
    document_type: str
    institution_name: str
    institution_registration_number: str
    diagnosed_on: str  # ISO date, e.g. 2025-04-15
    document: UploadFile
    institution_kind: str | None = None  # physical (the default) or internet


def _prior_input(form: PriorDiagnosisForm) -> PriorDiagnosisInput:
    values = {name: getattr(form, name) for name in (*_PRIOR_FIELDS, "institution_kind")}
    text = {name: value.strip() for name, value in values.items() if isinstance(value, str) and value.strip()}
    missing = [name for name in _PRIOR_FIELDS if name not in text]
    if missing:
        raise InvalidInput(f"send the multipart text fields {', '.join(missing)}", missing=missing)
    if any(len(v) > 200 for v in text.values()):
        raise InvalidInput("a field is longer than 200 characters")
    try:
        diagnosed_on = date.fromisoformat(text["diagnosed_on"])
    except ValueError:
        raise InvalidInput("diagnosed_on must be an ISO date such as 2025-04-15") from None
    return PriorDiagnosisInput(text["icd10_code"], text["diagnosis_name"], text["document_type"],
                               text["institution_name"], diagnosed_on, text.get("institution_kind", "physical"),
                               text["institution_registration_number"])


class ConsentController(Controller):
    path = "/api/consent"
    tags = ["visits"]

    @get("/", opt=PUBLIC, summary="The current informed-consent text, Chinese and English (PAT-02)")
    async def current(self, db_session: AsyncSession, ctx: HospitalContext) -> ConsentText:
        view = await intake.current_consent(db_session, ctx)
        return ConsentText(version=view.version, text_sha256=view.text_sha256, zh=view.zh, en=view.en)

    @post("/acceptances", guards=[requires_patient], summary="Accept the current consent version (PAT-02)")
    async def accept(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     data: AcceptanceBody) -> ConsentAccepted:
        guardian = None if data.guardian is None else Guardian(data.guardian.name, data.guardian.id_number,
                                                               data.guardian.relationship, present_confirmed=False)
        record = await intake.accept_consent(db_session, ctx, actor_of(request), principal_of(request).user_id,
                                             data.version, data.text_sha256, guardian)
        by_guardian = {k: v for k, v in (consent_guardian(ctx.cipher, record) or {}).items() if k != "id_number_hash"}
        return ConsentAccepted(version=record.version, text_sha256=record.text_sha256,
                               accepted_at=record.accepted_at.isoformat(), client_address=record.client_address,
                               accepted_by_guardian=msgspec.convert(by_guardian, ConsentGuardian) if by_guardian else None)

    @get("/acceptances", guards=[requires_patient], summary="The caller's acceptances and whether the current one is")
    async def acceptances(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                          ctx: HospitalContext) -> Acceptances:
        return msgspec.convert(await views.own_acceptances(db_session, ctx, principal_of(request).user_id), Acceptances)


class DiagnosisCatalogueController(Controller):
    path = "/api/diagnosis-catalogue"
    tags = ["visits"]

    @get("/", opt=PUBLIC, summary="The diagnoses followed up online here, by name, with their codes (REV-02)")
    async def catalogue(self, db_session: AsyncSession, ctx: HospitalContext) -> list[DiagnosisChoice]:
        return msgspec.convert(await views.diagnosis_catalogue(db_session, ctx), list[DiagnosisChoice])


class PriorDiagnosisController(Controller):
    path = "/api/prior-diagnoses"
    tags = ["visits"]
    guards = [requires_patient]

    @post("/", summary="File a prior diagnosis with its document: multipart fields + file 'document' (REV-01)")
    async def file(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                   data: Annotated[PriorDiagnosisForm, Body(media_type=RequestEncodingType.MULTI_PART)]
                   ) -> PriorDiagnosisView:
        prior = _prior_input(data)
        upload = data.document
        record = await intake.file_prior_diagnosis(db_session, ctx, actor_of(request), principal_of(request).user_id,
                                                   prior, await upload.read(), upload.content_type)
        return msgspec.convert(views.prior_diagnosis_view(open_prior(ctx.cipher, record)), PriorDiagnosisView)

    @get("/", summary="The caller's prior diagnoses, each with whether it could found a visit today")
    async def list_own(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                       ctx: HospitalContext) -> list[PriorDiagnosisView]:
        return msgspec.convert(await views.prior_diagnoses(db_session, ctx, actor_of(request),
                                                           principal_of(request).user_id), list[PriorDiagnosisView])

    @get("/{prior_id:uuid}/document", summary="The caller's own prior-diagnosis document",
         media_type="application/octet-stream")
    async def document(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       prior_id: uuid.UUID) -> Response[bytes]:
        data, content_type = await views.prior_diagnosis_document(db_session, ctx, principal_of(request).user_id,
                                                                  prior_id)
        return document_response(data, content_type, f"prior-diagnosis-{prior_id}")
