"""Revisit-only intake rules (PAT-02, REV-01 … REV-05), and `check_intake`, which runs them in order.

A service gathers the patient's prior diagnosis, consent and guardian, loads `IntakeTables` once
(`reference.tables_for(ctx)`), and calls `check_intake`, or the single rules, before a booking or an
acceptance. The booking rules live in `visits.booking.rules`, the encounter's in `visits.encounter.rules`.

    evidence      REV-01: what the patient brings: the prior diagnosis on file, the institution's 登记号, the
                  uploaded document's real type (`sniff_document`), withdrawing a diagnosis
    eligibility   PAT-02, REV-02 … REV-05: may it found this visit: recency and department, exclusions, the
                  diagnosis name and the visit's diagnoses, notifiable infections, a child's guardian, consent
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from hospital.core.rule_registry import Finding, Severity
from hospital.visits.icd10 import Icd10Code
from hospital.visits.intake.rules.eligibility import (
    ConsentAcceptance,
    Guardian,
    InfectiousFlag,
    check_consent,
    check_diagnosis_name,
    check_guardian,
    check_not_excluded,
    check_prior_diagnosis_valid,
    infectious_flag,
)
from hospital.visits.intake.rules.evidence import PriorDiagnosis, check_prior_diagnosis_on_file
from hospital.visits.intake.tables import IntakeTables

__all__ = ["IntakeDecision", "IntakeRequest", "check_intake"]


@dataclass(frozen=True, slots=True)
class IntakeRequest:
    birth_date: date
    visit_date: date
    prior: PriorDiagnosis | None
    consent: ConsentAcceptance | None
    guardian: Guardian | None = None
    department_code: str | None = None


@dataclass(frozen=True, slots=True)
class IntakeDecision:
    icd10: Icd10Code
    infectious: InfectiousFlag | None
    findings: list[Finding] = field(default_factory=list)


def check_intake(
    request: IntakeRequest,
    *,
    tables: IntakeTables,
    approved_department_codes: Collection[str],
    current_consent_version: str,
) -> IntakeDecision:
    """Every intake rule in order (PAT-02, REV-01, REV-03, REV-02, REV-05); the first refusal is raised."""
    check_consent(request.consent, current_version=current_consent_version)
    prior = check_prior_diagnosis_on_file(request.prior, today=request.visit_date, birth_date=request.birth_date)
    check_not_excluded(prior.icd10_code, tables=tables)
    name_finding = check_diagnosis_name(prior.icd10_code, prior.diagnosis_name, tables=tables).finding
    code = check_prior_diagnosis_valid(
        prior,
        visit_date=request.visit_date,
        approved_department_codes=approved_department_codes,
        tables=tables,
        visit_department_code=request.department_code,
    )
    check_guardian(request.birth_date, request.visit_date, request.guardian)
    flag = infectious_flag(code, tables=tables)
    findings: list[Finding] = [name_finding] if name_finding is not None else []
    if flag is not None:
        findings.append(
            Finding(
                "REV-04",
                Severity.WARN,
                f"{code.code} falls under notifiable disease {flag.disease_zh} (class {flag.statutory_class.value}): "
                f"report within {flag.report_within_hours} hours if confirmed or suspected",
            )
        )
    return IntakeDecision(code, flag, findings)
