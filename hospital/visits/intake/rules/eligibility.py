"""May this prior diagnosis found this visit, for this patient (PAT-02, REV-02 … REV-05): the code recent and in an
approved department, no excluded condition, the diagnosis name and the visit's diagnoses, a notifiable infection
flagged, a child's guardian, the consent. Pure, plain values in, `RuleViolation` out.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from hospital.core.errors import RuleViolation
from hospital.core.messages import say
from hospital.core.rule_registry import Finding, Severity, rule
from hospital.institution.rules import department_covers
from hospital.patients.rules import age_on, check_resident_id
from hospital.visits.dates import add_months
from hospital.visits.icd10 import Icd10Code, validate_icd10
from hospital.visits.intake.rules.evidence import PriorDiagnosis
from hospital.visits.intake.tables import IntakeTables, StatutoryClass, normalise_name

__all__ = [
    "ADULT_YEARS",
    "GUARDIAN_REQUIRED_UNDER_YEARS",
    "ConsentAcceptance",
    "Guardian",
    "GuardianRelationship",
    "InfectiousFlag",
    "NameCheck",
    "check_consent",
    "check_consent_giver",
    "check_diagnosis_name",
    "check_diagnosis_related",
    "check_guardian",
    "check_not_excluded",
    "check_prior_diagnosis_valid",
    "infectious_flag",
]

GUARDIAN_REQUIRED_UNDER_YEARS = 6  # PD 17: 低龄儿童 (6岁以下)
_ADULT_YEARS = 18  # 民法典 第十七条: a guardian must be of full age


class GuardianRelationship(enum.StrEnum):
    """Who may act as a child's guardian (民法典 第二十七条)."""

    PARENT = "parent"
    GRANDPARENT = "grandparent"
    ADULT_SIBLING = "adult_sibling"
    OTHER_LEGAL_GUARDIAN = "other_legal_guardian"


@dataclass(frozen=True, slots=True)
class Guardian:
    name: str
    id_number: str
    relationship: str
    present_confirmed: bool


@dataclass(frozen=True, slots=True)
class ConsentAcceptance:
    """A patient's acceptance of one consent version, with time and IP (PAT-02)."""

    version: str
    accepted_at: datetime
    ip_address: str


@dataclass(frozen=True, slots=True)
class InfectiousFlag:
    """A (suspected) notifiable infectious disease to report (REV-04, PD 15)."""

    icd10: Icd10Code
    disease_zh: str
    disease_en: str
    statutory_class: StatutoryClass
    managed_as_class_a: bool
    report_within_hours: int


def _code(icd10_code: str | Icd10Code, tables: IntakeTables) -> Icd10Code:
    if isinstance(icd10_code, Icd10Code):
        return icd10_code
    return validate_icd10(icd10_code, aliases=tables.legacy_aliases)


def _related(a: str, b: str) -> bool:
    return department_covers(a, b) or department_covers(b, a)


@rule("REV-02", "The prior diagnosis is coded, recent and within an approved department", source="PD 7, 15; SP")
def check_prior_diagnosis_valid(
    prior: PriorDiagnosis,
    *,
    visit_date: date,
    approved_department_codes: Collection[str],
    tables: IntakeTables,
    visit_department_code: str | None = None,
) -> Icd10Code:
    """The validated code, or a refusal naming the expired window or the departments not on the licence."""
    code = validate_icd10(prior.icd10_code, aliases=tables.legacy_aliases)
    if prior.diagnosed_on is None:
        raise RuleViolation("REV-02", "the prior diagnosis has no date")
    window = tables.recency_window_for(code)
    expires_on = add_months(prior.diagnosed_on, window.window_months)
    if visit_date > expires_on:
        raise RuleViolation(
            "REV-02",
            say("intake.diagnosis_too_old", diagnosed_on=prior.diagnosed_on.isoformat(),
                window_months=window.window_months, group=window.group, expires_on=expires_on.isoformat()),
            window_months=window.window_months,
            recency_group=window.group,
        )
    mapping = tables.department_mapping_for(code)
    if mapping is None or not mapping.department_codes:
        why = mapping.notes if mapping else "no department is mapped to it"
        raise RuleViolation("REV-02", f"{code.code} ({code.title}) cannot found an online revisit: {why}")
    serving = [d for d in mapping.department_codes if any(department_covers(a, d) for a in approved_department_codes)]
    if not serving:
        names = ", ".join(tables.department_name(d) for d in mapping.department_codes)
        raise RuleViolation("REV-02", f"{code.code} is served by {names}, none of which is on the hospital's licence")
    if visit_department_code is not None and not any(_related(visit_department_code, d) for d in serving):
        raise RuleViolation(
            "REV-02", f"{code.code} is not served by department {tables.department_name(visit_department_code)}"
        )
    return code


@rule("REV-03", "Class A infections, critical conditions and cases needing examination are refused", source="PD 6")
def check_not_excluded(icd10_code: str | Icd10Code, *, tables: IntakeTables) -> None:
    """Refuse a condition on the excluded table, naming its kind."""
    code = _code(icd10_code, tables)
    excluded = tables.exclusion_for(code)
    if excluded is not None:
        raise RuleViolation(
            "REV-03",
            f"{code.code} {excluded.name_zh} ({excluded.name_en}) is {excluded.kind.value}: not served online; "
            "the patient must attend a physical institution",
            kind=excluded.kind.value,
            icd10_code=code.code,
        )


@dataclass(frozen=True, slots=True)
class NameCheck:
    """How a diagnosis name reads against its code: `matches`, or the finding the doctor must resolve."""

    code: Icd10Code
    name: str
    title_zh: str | None  # the reviewed Chinese title of the code, None when the table has none
    matches: bool
    named_codes: tuple[str, ...] = ()  # the codes the name itself stands for, when it names another

    @property
    def finding(self) -> Finding | None:
        if self.matches:
            return None
        title = f" {self.title_zh}" if self.title_zh else ""
        also = f" (the name is {', '.join(self.named_codes)})" if self.named_codes else ""
        return Finding("REV-02", Severity.WARN, f"the diagnosis name {self.name!r} does not match {self.code.code}"
                                                f"{title}{also}: the doctor must resolve it before accepting")


def _name_matches(name: str, names: Collection[str]) -> bool:
    wanted = normalise_name(name)
    return any(wanted == n or (len(n) >= 2 and n in wanted) or (len(wanted) >= 2 and wanted in n)
               for n in (normalise_name(x) for x in names))


@rule("REV-02", "A diagnosis name agrees with the title of its code", source="PD 15; SP 历史诊断校验")
def check_diagnosis_name(icd10_code: str | Icd10Code, name: str, *, tables: IntakeTables) -> NameCheck:
    """Compare `name` with the code's reviewed Chinese title (and synonyms). A name that stands for an excluded
    condition under another code (传染性非典型肺炎 filed as J12.8) is refused as that condition (REV-03);
    any other disagreement is a finding the doctor resolves, never silently accepted."""
    code = _code(icd10_code, tables)
    named = [(codes, title) for codes, title in tables.codes_named(name) if not codes.contains(code)]
    for codes, named_title in named:
        excluded = tables.exclusion_for(_code(codes.start, tables))
        if excluded is not None:
            raise RuleViolation(
                "REV-03",
                f"the diagnosis is named {name!r}, which is {codes} {named_title} ({excluded.kind.value}), although it is "
                f"coded {code.code}: {excluded.name_zh} is not served online; the patient must attend a physical "
                "institution", kind=excluded.kind.value, icd10_code=code.code, named_codes=str(codes))
    title = tables.title_for(code)
    if title is None:
        return NameCheck(code, name, None, matches=not named, named_codes=tuple(str(c) for c, _ in named))
    own = any(codes.contains(code) for codes, _ in tables.codes_named(name))
    matches = own or (_name_matches(name, title.names()) and not named)
    return NameCheck(code, name, title.title_zh, matches, tuple(str(c) for c, _ in named))


@rule("REV-04", "The visit's diagnoses are the prior disease or its coded complications", source="PD 6, 15")
def check_diagnosis_related(prior_code: str | Icd10Code, recorded_code: str | Icd10Code, *,
                            tables: IntakeTables) -> None:
    """Refuse a recorded diagnosis that is neither the prior disease (same category) nor one of its coded
    complications (`complications.csv`): a new problem is a first visit, ended with a referral."""
    prior, recorded = _code(prior_code, tables), _code(recorded_code, tables)
    if prior.category == recorded.category or tables.complication_of(prior, recorded) is not None:
        return
    raise RuleViolation(
        "REV-04", f"the record's diagnosis {recorded.code} ({recorded.title}) is neither the prior disease "
                  f"{prior.code} ({prior.title}) nor a coded complication of it: a new problem is a first visit "
                  "(首诊); terminate the visit with a referral", prior_icd10=prior.code, recorded_icd10=recorded.code)


@rule("REV-04", "A suspected notifiable infectious disease is flagged for reporting", source="PD 15")
def infectious_flag(icd10_code: str | Icd10Code, *, tables: IntakeTables) -> InfectiousFlag | None:
    """The notifiable disease the code falls under, or None."""
    code = _code(icd10_code, tables)
    disease = tables.notifiable_for(code)
    if disease is None:
        return None
    return InfectiousFlag(
        code,
        disease.disease_zh,
        disease.disease_en,
        disease.statutory_class,
        disease.managed_as_class_a,
        disease.report_within_hours,
    )


@rule("REV-05", "A child under 6 has a guardian present and recorded", source="PD 17")
def check_guardian(birth_date: date, visit_date: date, guardian: Guardian | None) -> None:
    """Refuse a child under 6 without a present, adult, identified guardian."""
    age = age_on(birth_date, visit_date)
    if age >= GUARDIAN_REQUIRED_UNDER_YEARS:
        return
    child = f"the patient is {age} (under {GUARDIAN_REQUIRED_UNDER_YEARS})"
    if guardian is None:
        raise RuleViolation("REV-05", f"{child}: a guardian must be present and recorded")
    if not guardian.name.strip():
        raise RuleViolation("REV-05", f"{child}: the guardian's name is missing")
    try:
        guardian_id = check_resident_id(guardian.id_number, visit_date)  # PAT-01's own check
    except RuleViolation as exc:
        raise RuleViolation("REV-05", f"{child}: the guardian's ID number is not valid ({exc.detail})") from exc
    if age_on(guardian_id.birth_date, visit_date) < _ADULT_YEARS:
        raise RuleViolation("REV-05", f"{child}: the guardian must be an adult")
    if guardian.relationship not in set(GuardianRelationship):
        allowed = ", ".join(r.value for r in GuardianRelationship)
        raise RuleViolation("REV-05", f"{child}: relationship {guardian.relationship!r} is not one of: {allowed}")
    if not guardian.present_confirmed:
        raise RuleViolation("REV-05", f"{child}: the guardian's presence has not been confirmed")


@rule("PAT-02", "The patient accepted the current consent version", source="PD 14")
def check_consent(acceptance: ConsentAcceptance | None, *, current_version: str) -> None:
    """Refuse without an acceptance of `current_version` recorded with its time and IP."""
    if acceptance is None:
        detail = f"informed consent {current_version} has not been accepted"
        raise RuleViolation("PAT-02", detail, current_version=current_version)
    if acceptance.version != current_version:
        raise RuleViolation(
            "PAT-02",
            f"consent {acceptance.version} was accepted, but the current text is {current_version}: "
            f"accept {current_version} first",
            current_version=current_version,
            accepted_version=acceptance.version,
        )
    if not acceptance.ip_address.strip():
        raise RuleViolation("PAT-02", "the consent acceptance has no IP address recorded")


ADULT_YEARS = _ADULT_YEARS


@rule("PAT-02", "A minor's consent is given by the guardian, identified and of full age",
      source="PD 14, 17; 民法典 第十九条、第二十条")
def check_consent_giver(birth_date: date, today: date, guardian: Guardian | None) -> Guardian | None:
    """None for an adult patient (who consents for themselves); for a minor, the guardian who consents, or a
    refusal: a child does not accept the informed consent on their own account."""
    age = age_on(birth_date, today)
    if age >= _ADULT_YEARS:
        return None
    minor = f"the patient is {age}, a minor"
    if guardian is None or not guardian.name.strip():
        raise RuleViolation("PAT-02", f"{minor}: the guardian accepts the consent (name, ID number, relationship)")
    try:
        guardian_id = check_resident_id(guardian.id_number, today)
    except RuleViolation as exc:
        raise RuleViolation("PAT-02", f"{minor}: the guardian's ID number is not valid ({exc.detail})") from exc
    if age_on(guardian_id.birth_date, today) < _ADULT_YEARS:
        raise RuleViolation("PAT-02", f"{minor}: the guardian must be an adult")
    if guardian.relationship not in set(GuardianRelationship):
        allowed = ", ".join(r.value for r in GuardianRelationship)
        raise RuleViolation("PAT-02", f"{minor}: relationship {guardian.relationship!r} is not one of: {allowed}")
    return guardian
