"""Revisit-only intake rules (PAT-02, REV-01 … REV-05): pure, plain values in, `RuleViolation` out.

A service gathers the patient's prior diagnosis, consent and guardian, loads `IntakeTables` once
(`reference.tables_for(ctx)`), and calls `check_intake`, or the single rules, before a booking or an
acceptance. What an uploaded prior-diagnosis document really is (REV-01) is judged here too, from its bytes
(`sniff_document`). The booking rules live in `visits.booking.rules`, the encounter's in
`visits.encounter.rules`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from hospital.core.errors import PayloadTooLarge, RuleViolation, UnsupportedMediaType
from hospital.core.messages import say
from hospital.core.rule_registry import Finding, Severity, rule
from hospital.patients.rules import age_on, check_resident_id
from hospital.visits.dates import add_months
from hospital.visits.icd10 import Icd10Code, validate_icd10
from hospital.visits.intake.reference import IntakeTables, StatutoryClass, department_covers, normalise_name

__all__ = [
    "ADULT_YEARS",
    "EARLIEST_DIAGNOSIS",
    "GUARDIAN_REQUIRED_UNDER_YEARS",
    "MAX_DOCUMENT_BYTES",
    "ONLINE_INSTITUTION_MARKERS",
    "ConsentAcceptance",
    "DocumentKind",
    "DocumentType",
    "Guardian",
    "GuardianRelationship",
    "InfectiousFlag",
    "InstitutionKind",
    "IntakeDecision",
    "IntakeRequest",
    "NameCheck",
    "PriorDiagnosis",
    "check_consent",
    "check_consent_giver",
    "check_diagnosis_name",
    "check_diagnosis_related",
    "check_guardian",
    "check_institution_registration",
    "check_intake",
    "check_not_excluded",
    "check_prior_diagnosis_on_file",
    "check_prior_diagnosis_valid",
    "check_prior_diagnosis_withdrawable",
    "infectious_flag",
    "organisation_check_character",
    "sniff_document",
]

GUARDIAN_REQUIRED_UNDER_YEARS = 6  # PD 17: 低龄儿童 (6岁以下)
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # a multi-page scanned discharge summary fits; a video does not
_ADULT_YEARS = 18  # 民法典 第十七条: a guardian must be of full age
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TAIL = 1024  # readers accept trailing bytes after %%EOF / IEND within this distance of the end


class DocumentType(enum.StrEnum):
    """Records that prove a diagnosis made at a physical institution (PD 15)."""

    OUTPATIENT_RECORD = "outpatient_record"  # 门诊病历
    INPATIENT_RECORD = "inpatient_record"  # 住院病历
    DISCHARGE_SUMMARY = "discharge_summary"  # 出院小结
    DIAGNOSIS_CERTIFICATE = "diagnosis_certificate"  # 诊断证明


class InstitutionKind(enum.StrEnum):
    PHYSICAL = "physical"  # 实体医疗机构
    INTERNET_HOSPITAL = "internet_hospital"  # an online diagnosis cannot found a revisit (PD 6)


class GuardianRelationship(enum.StrEnum):
    """Who may act as a child's guardian (民法典 第二十七条)."""

    PARENT = "parent"
    GRANDPARENT = "grandparent"
    ADULT_SIBLING = "adult_sibling"
    OTHER_LEGAL_GUARDIAN = "other_legal_guardian"


@dataclass(frozen=True, slots=True)
class PriorDiagnosis:
    """What the patient brings (REV-01): the diagnosis, who made it and when, and the kept document."""

    icd10_code: str
    diagnosis_name: str
    document_type: str
    institution_name: str
    diagnosed_on: date | None
    document_sha256: str | None
    institution_kind: InstitutionKind = InstitutionKind.PHYSICAL
    institution_registration_number: str = ""  # 医疗机构登记号, required when filed (check_institution_registration)


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


# Names that say the institution is itself online: its diagnosis cannot found a revisit (PD 6), whatever the
# patient ticks as the kind.
ONLINE_INSTITUTION_MARKERS = ("互联网医院", "网络医院", "互联网诊疗", "云医院", "在线医院", "网上医院")
# 医疗机构登记号 (医疗机构执业许可证): 9-character 组织机构代码 (GB 11714, with its check character), 6-digit
# 行政区划代码 (GB/T 2260), 2-digit 经济类型代码, 4-character 卫生机构类别代码 (WS 218: letter + 3 digits,
# A100 综合医院), 1-digit 分类管理代码 (1 非营利性, 2 营利性, 9 其他).
_REGISTRATION = re.compile(r"^([0-9A-Z]{8})([0-9X])(\d{6})(\d{2})([A-Z]\d{3})([129])$")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
EARLIEST_DIAGNOSIS = date(1900, 1, 1)


def organisation_check_character(first_eight: str) -> str:
    """GB 11714-1997: the 9th character of a 组织机构代码."""
    total = sum(int(ch, 36) * w for ch, w in zip(first_eight, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


@rule("REV-01", "The diagnosing institution is named with a well-formed 医疗机构登记号", source="PD 6, 15")
def check_institution_registration(number: str) -> str:
    """The normalised 登记号, or a refusal naming what is wrong with it."""
    normalised = number.strip().upper().replace(" ", "").replace("-", "")
    found = _REGISTRATION.match(normalised)
    if found is None:
        raise RuleViolation("REV-01", f"医疗机构登记号 {number!r} is not 22 characters of the licence format "
                                      "(组织机构代码 9 + 行政区划 6 + 经济类型 2 + 机构类别 4 + 分类管理 1)",
                            field="institution_registration_number")
    if organisation_check_character(found.group(1)) != found.group(2):
        raise RuleViolation("REV-01", f"医疗机构登记号 {number!r}: the 组织机构代码 check character is wrong",
                            field="institution_registration_number")
    return normalised


@rule("REV-01", "A prior diagnosis from a physical institution is on file", source="PD 6, 15")
def check_prior_diagnosis_on_file(prior: PriorDiagnosis | None, *, today: date,
                                  birth_date: date | None = None) -> PriorDiagnosis:
    """`prior` when complete; refuse a first visit: no prior diagnosis, or one without its document, type,
    diagnosis, physical institution (by kind and by name) or a date between the patient's birth and today."""
    if prior is None:
        raise RuleViolation("REV-01", "no prior diagnosis: first visits (首诊) are not served online")
    allowed = ", ".join(t.value for t in DocumentType)
    if prior.document_type not in set(DocumentType):
        raise RuleViolation("REV-01", f"document type {prior.document_type!r} is not one of: {allowed}")
    if not prior.diagnosis_name.strip():
        raise RuleViolation("REV-01", "the prior diagnosis has no diagnosis")
    if not prior.institution_name.strip():
        raise RuleViolation("REV-01", "the prior diagnosis does not name the diagnosing institution")
    if prior.institution_kind is not InstitutionKind.PHYSICAL:
        raise RuleViolation("REV-01", "the prior diagnosis must be made at a physical institution, not online")
    online = next((m for m in ONLINE_INSTITUTION_MARKERS if m in prior.institution_name.replace(" ", "")), None)
    if online is not None:
        raise RuleViolation("REV-01", f"{prior.institution_name} is by its name ({online}) an online institution: "
                                      "its diagnosis cannot found an online revisit", field="institution_name")
    if prior.diagnosed_on is None:
        raise RuleViolation("REV-01", "the prior diagnosis has no date")
    if prior.diagnosed_on > today:
        raise RuleViolation("REV-01", f"the diagnosis date {prior.diagnosed_on.isoformat()} is in the future")
    earliest = max(birth_date or EARLIEST_DIAGNOSIS, EARLIEST_DIAGNOSIS)
    if prior.diagnosed_on < earliest:
        raise RuleViolation("REV-01", f"the diagnosis date {prior.diagnosed_on.isoformat()} is before "
                                      f"{'the patient was born' if birth_date else earliest.isoformat()}",
                            field="diagnosed_on")
    if not prior.document_sha256 or not _SHA256.match(prior.document_sha256):
        raise RuleViolation("REV-01", "the prior-diagnosis document has not been kept (no stored document)")
    return prior


def _related(a: str, b: str) -> bool:
    return department_covers(a, b) or department_covers(b, a)


@rule("REV-01", "A prior diagnosis is withdrawn only while no visit was booked on it, and is not booked once withdrawn",
      source="PD 15; REC-02")
def check_prior_diagnosis_withdrawable(*, visits_booked_on_it: int, withdrawn: bool) -> None:
    """A diagnosis a visit was booked on founds that visit's record (kept 15 years, REC-02): it stays."""
    if withdrawn:
        raise RuleViolation("REV-01", "this prior diagnosis has already been withdrawn")
    if visits_booked_on_it > 0:
        raise RuleViolation("REV-01", f"{visits_booked_on_it} visit(s) were booked on this prior diagnosis, whose "
                                      "records keep it: it can no longer be withdrawn", visits=visits_booked_on_it)


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


# What an uploaded prior-diagnosis document really is (REV-01), judged from its bytes.


class DocumentKind(enum.StrEnum):
    """Accepted upload types, by media type."""

    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"


def _detect(data: bytes) -> DocumentKind | None:
    if data.startswith(b"%PDF-"):
        # A PDF ends with %%EOF; without it the file is truncated or only pretends to be a PDF.
        return DocumentKind.PDF if b"%%EOF" in data[-_TAIL:] else None
    if data.startswith(b"\xff\xd8\xff"):
        # Phones append data after the JPEG end marker (motion photos), so only the start is checked.
        return DocumentKind.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return DocumentKind.PNG if b"IEND" in data[-_TAIL:] else None
    return None


def sniff_document(data: bytes, declared_type: DocumentKind | str, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> DocumentKind:
    """The kind of `data`, which must be what `declared_type` says; PayloadTooLarge over `max_bytes`,
    UnsupportedMediaType for another type, an empty file or content that does not match."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the document is {len(data)} bytes; the limit is {max_bytes}", limit=max_bytes)
    declared_text = declared_type.split(";")[0].strip().lower()
    try:
        declared = DocumentKind(declared_text)
    except ValueError:
        accepted = ", ".join(k.value for k in DocumentKind)
        raise UnsupportedMediaType(f"{declared_text!r} is not accepted; send one of: {accepted}") from None
    if not data:
        raise UnsupportedMediaType("the document is empty")
    found = _detect(data)
    if found is not declared:
        what = f"a {found.name} file" if found else "not a complete PDF, JPEG or PNG file"
        raise UnsupportedMediaType(
            f"declared {declared.value}, but the content is {what}",
            declared=declared.value,
            detected=found.value if found else None,
        )
    return found
