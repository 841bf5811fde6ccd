"""What a patient reads of their intake: their consent acceptances and their prior diagnoses, each with
whether it could found a visit today (for the booking page; booking checks again on the visit's own date).

Everything is read through the scoped queries (SEC-01); rows become plain dicts here, so table models never
reach the HTTP layer.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.audit import Actor, audit_read
from hospital.core.errors import RuleViolation
from hospital.core.problems import told
from hospital.institution.rules import department_covers
from hospital.institution.service import approved_department_codes
from hospital.visits.dates import add_months
from hospital.visits.intake import queries
from hospital.visits.intake.models import PriorDiagnosisOnFile, open_prior
from hospital.visits.intake.reference import tables_for
from hospital.visits.intake.rules.eligibility import check_diagnosis_name, check_not_excluded, check_prior_diagnosis_valid
from hospital.visits.intake.rules.evidence import InstitutionKind, PriorDiagnosis
from hospital.visits.intake.service import current_consent, prior_as_rule_value
from hospital.visits.intake.tables import IntakeTables

__all__ = ["diagnosis_catalogue", "eligibility_of", "own_acceptances", "prior_diagnoses", "prior_diagnosis_document",
           "prior_diagnosis_view"]


def eligibility_of(record: PriorDiagnosisOnFile, tables: IntakeTables, approved: set[str], today: date) -> dict[str, Any]:
    """Whether the diagnosis could found a visit today, and in which approved departments (for the booking
    page); booking checks again on the visit's own date."""
    prior = prior_as_rule_value(record)
    try:
        check_not_excluded(prior.icd10_code, tables=tables)
        check_diagnosis_name(prior.icd10_code, prior.diagnosis_name, tables=tables)  # REV-03 by name
        code = check_prior_diagnosis_valid(prior, visit_date=today, approved_department_codes=approved, tables=tables)
    except RuleViolation as refused:
        # `told`: the refusing rule's reason and what to do, in both languages, for the patient's page (issue 14).
        return {"eligible": False, "rule_id": refused.rule_id, "reason": refused.detail,
                "told": {short: {"title": text.title, "detail": text.detail}
                         for short, text in (("zh", told(refused, "zh-CN")), ("en", told(refused, "en")))}}
    mapping = tables.department_mapping_for(code)
    serving = [d for d in (mapping.department_codes if mapping else ()) if any(department_covers(a, d) for a in approved)]
    window = tables.recency_window_for(code).window_months
    return {"eligible": True, "valid_until": add_months(record.diagnosed_on, window).isoformat(),
            "department_codes": serving}


async def diagnosis_catalogue(session: AsyncSession, ctx: HospitalContext) -> list[dict[str, Any]]:
    """The diagnoses the hospital can follow up online, by name (REV-02, REV-03): each titled code that is not
    refused online and is served by a department on the licence, with its synonyms. The patient chooses a name;
    the page fills the code from it, so nobody types an ICD code."""
    tables, approved = tables_for(ctx), await approved_department_codes(session)
    listed = []
    for title in tables.titles:
        code = title.codes.start
        try:
            check_not_excluded(code, tables=tables)
            # as if diagnosed today: only whether it is served here is asked, not its age
            prior = PriorDiagnosis(code, title.title_zh, "", "", ctx.today(), None, InstitutionKind.PHYSICAL, "")
            check_prior_diagnosis_valid(prior, visit_date=ctx.today(), approved_department_codes=approved, tables=tables)
        except RuleViolation:
            continue  # refused online (REV-03) or not served here (REV-02): not offered
        listed.append({"icd10_code": code, "name": title.title_zh, "synonyms": list(title.synonyms)})
    return sorted(listed, key=lambda d: d["icd10_code"])


def prior_diagnosis_view(record: PriorDiagnosisOnFile, eligibility: dict[str, Any] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {"prior_diagnosis_id": str(record.id), "icd10_code": record.icd10_code,
            "diagnosis_name": record.diagnosis_name, "document_type": record.document_type,
            "institution_name": record.institution_name, "institution_kind": record.institution_kind,
            "institution_registration_number": record.institution_registration_number,
            "name_finding": record.name_finding, "diagnosed_on": record.diagnosed_on.isoformat(),
            "document_content_type": record.document_content_type, "document_sha256": record.document_sha256,
            "filed_at": record.created_at.isoformat(),
            "withdrawn_at": record.withdrawn_at.isoformat() if record.withdrawn_at else None}
    if eligibility is not None:
        view["eligibility"] = eligibility
    return view


async def prior_diagnoses(session: AsyncSession, ctx: HospitalContext, actor: Actor,
                          patient_user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The patient's own prior diagnoses, each with whether it could found a visit today (one
    `prior_diagnosis.list_read` entry names them)."""
    patient = await queries.patient_of_user(session, patient_user_id)
    tables, approved, today = tables_for(ctx), await approved_department_codes(session), ctx.today()
    records = [open_prior(ctx.cipher, r) for r in await queries.prior_diagnoses_of_patient(session, patient.id)]
    views = [prior_diagnosis_view(r, eligibility_of(r, tables, approved, today)) for r in records]
    await audit_read(session, actor, "prior_diagnosis.list_read", subject_type="prior_diagnosis",
                     records=[r.id for r in records], patients=[patient_user_id])
    return views


async def prior_diagnosis_document(session: AsyncSession, ctx: HospitalContext, patient_user_id: uuid.UUID,
                                   prior_id: uuid.UUID) -> tuple[bytes, str]:
    """The patient's own document, opened from the blob store."""
    patient = await queries.patient_of_user(session, patient_user_id)
    record = await queries.prior_diagnosis_of_patient(session, prior_id, patient.id)
    return await ctx.blob_store().get(record.document_sha256), record.document_content_type


async def own_acceptances(session: AsyncSession, ctx: HospitalContext, patient_user_id: uuid.UUID) -> dict[str, Any]:
    """The patient's consent acceptances and whether the current version is among them."""
    patient = await queries.patient_of_user(session, patient_user_id)
    current = (await current_consent(session, ctx)).version
    records = await queries.consents_of_patient(session, patient.id)
    return {"current_version": current, "current_accepted": any(r.version == current for r in records),
            "acceptances": [{"version": r.version, "text_sha256": r.text_sha256, "accepted_at": r.accepted_at.isoformat(),
                             "client_address": r.client_address} for r in records]}
