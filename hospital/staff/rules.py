"""Admission and practice rules for clinicians. Pure.

STAFF-01 doctors, STAFF-02 pharmacists and nurses, STAFF-03 practice within scope, departments and valid
credentials (PD 13; the supervision platform's 准入 checks).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from hospital.core.errors import AccessRefused, RuleViolation
from hospital.core.rule_registry import rule
from hospital.institution.rules import department_covers
from hospital.staff.scopes import PracticeScope, practice_scopes

__all__ = [
    "ANTIMICROBIAL_GRADE_BY_TITLE",
    "LIFELONG_CREDENTIALS",
    "MIN_CLINICAL_YEARS",
    "Credential",
    "StaffApplication",
    "StaffKind",
    "StaffStanding",
    "antimicrobial_grade_for",
    "check_admission",
    "check_can_practise",
    "check_credentials_expire",
    "check_credentials_in_force",
    "check_departments_in_scope",
    "check_doctor_admission",
    "check_nurse_admission",
    "check_pharmacist_admission",
    "covers_paediatrics",
    "practising_certificate_code",
]

MIN_CLINICAL_YEARS = 3  # 具有3年以上独立临床工作经验 (PD 13)


class StaffKind(enum.StrEnum):
    DOCTOR = "doctor"
    PHARMACIST = "pharmacist"
    NURSE = "nurse"


@dataclass(frozen=True, slots=True)
class Credential:
    """One certificate: 医师资格证, 医师执业证, 药师资格证, 护士资格证, 护士执业注册证, 职称证书."""

    kind: str
    number: str
    valid_until: date | None = None  # None: the certificate does not expire (资格证)


@dataclass(frozen=True, slots=True)
class StaffApplication:
    kind: StaffKind
    real_name: str
    id_number_valid: bool
    has_photo: bool
    title: str
    clinical_years: int
    departments: tuple[str, ...]
    credentials: tuple[Credential, ...]
    practice_category: str = ""  # 执业类别 (临床, 中医 …), doctors
    practice_scope: str = ""  # 执业范围 (内科专业 …), doctors
    practice_institution: str = ""  # 注册执业机构, doctors


DOCTOR_CREDENTIALS = ("physician_qualification", "physician_practice")  # 医师资格证, 医师执业证
PHARMACIST_CREDENTIALS = ("pharmacist_qualification",)  # 药师资格证
NURSE_CREDENTIALS = ("nurse_qualification", "nurse_practice")  # 护士资格证, 护士执业注册证
# 资格证书 attest an examination passed and carry no validity period (医师法 第十一条; 执业药师职业资格制度规定;
# 护士执业资格考试办法); every other credential (执业证书/注册, 职称 where it lapses) carries its expiry date, so
# that practice stops the day after it (STAFF-03). A credential of another kind without an expiry is refused.
LIFELONG_CREDENTIALS = frozenset({"physician_qualification", "pharmacist_qualification", "nurse_qualification"})


def practising_certificate_code(credentials: Sequence[Mapping[str, str | None]]) -> str | None:
    """The 医师执业证书编码 among a staff record's credentials (`StaffMember.credentials`), None if it has none."""
    return next((str(c["number"]) for c in credentials if c.get("kind") == "physician_practice" and c.get("number")),
                None)


# Expiry is STAFF-03's clause ("credentials carry expiry dates and expired ones block practice"), at admission as at
# every act: an admission refused for an undated or expired credential names STAFF-03, not the admission's rule.
@rule("STAFF-03", "Every credential but a lifelong 资格证书 carries its expiry date", source="PD 13")
def check_credentials_expire(credentials: Collection[Credential]) -> None:
    undated = [c.kind for c in credentials if c.valid_until is None and c.kind not in LIFELONG_CREDENTIALS]
    if undated:
        raise RuleViolation("STAFF-03", f"credentials without an expiry date: {', '.join(undated)}; only "
                                        f"{', '.join(sorted(LIFELONG_CREDENTIALS))} are lifelong", undated=undated)


@rule("STAFF-03", "No credential presented for admission has expired", source="PD 13")
def check_credentials_in_force(credentials: Collection[Credential], today: date) -> None:
    for credential in credentials:
        if credential.valid_until is not None and credential.valid_until < today:
            raise RuleViolation("STAFF-03", f"credential {credential.kind} {credential.number} expired on "
                                            f"{credential.valid_until}", expired=credential.kind)


def _scope_of(practice_scope: str, scopes: Mapping[str, PracticeScope]) -> PracticeScope:
    found = scopes.get(practice_scope.strip())
    if found is None:
        raise RuleViolation("STAFF-03", f"执业范围 {practice_scope!r} is not in the reviewed scope table",
                            practice_scope=practice_scope)
    return found


@rule("STAFF-03", "A doctor serves only departments within the registered practice scope (执业范围)",
      source="PD 13; 卫医发〔2001〕169号")
def check_departments_in_scope(practice_scope: str, departments: Collection[str],
                               scopes: Mapping[str, PracticeScope] | None = None) -> None:
    """Refuse a department that the scope's 诊疗科目 do not cover (外科专业 cannot serve 03.04 心血管内科)."""
    scope = _scope_of(practice_scope, practice_scopes() if scopes is None else scopes)
    outside = [d for d in departments if not any(department_covers(own, d) for own in scope.department_codes)]
    if outside:
        raise RuleViolation("STAFF-03", f"执业范围 {scope.scope_zh} covers {' '.join(scope.department_codes)}, not "
                                        f"{', '.join(outside)}", practice_scope=scope.scope_zh, outside=outside)


PAEDIATRICS = "07"  # 儿科 in the national catalogue of 诊疗科目


def covers_paediatrics(practice_scope: str, scopes: Mapping[str, PracticeScope] | None = None) -> bool:
    """Whether a doctor's 执业范围 covers 07 儿科 (PD 17: a child's prescription by 相关专业医师). An unknown
    scope covers nothing."""
    scope = (practice_scopes() if scopes is None else scopes).get(practice_scope.strip())
    return scope is not None and any(department_covers(own, PAEDIATRICS) for own in scope.department_codes)


def _missing(application: StaffApplication, required: Collection[str], rule_id: str) -> None:
    held = {c.kind for c in application.credentials if c.number.strip()}
    missing = [k for k in required if k not in held]
    if missing:
        raise RuleViolation(rule_id, f"missing credentials: {', '.join(missing)}", missing=missing)
    if not application.id_number_valid:
        raise RuleViolation(rule_id, "a valid resident ID number is required")
    if not application.has_photo:
        raise RuleViolation(rule_id, "a photo is required")
    if not application.title.strip():
        raise RuleViolation(rule_id, "the professional title (职称) is required")


def _departments(application: StaffApplication, approved: Collection[str]) -> None:
    if not application.departments:
        raise RuleViolation("STAFF-03", "a clinician is assigned at least one department")
    outside = [d for d in application.departments if d not in approved]
    if outside:
        raise RuleViolation("INS-02", f"departments not approved on the licence: {', '.join(outside)}")


@rule("STAFF-01", "Doctors: qualification and practice certificates, scope, institution, title, ID, photo, "
      "≥3 years of independent clinical work", source="PD 13, SP 准入")
def check_doctor_admission(application: StaffApplication, today: date, approved_departments: Collection[str]) -> None:
    _missing(application, DOCTOR_CREDENTIALS, "STAFF-01")
    if not (application.practice_category and application.practice_scope and application.practice_institution):
        raise RuleViolation("STAFF-01", "practice category, scope and registered institution are required")
    if application.clinical_years < MIN_CLINICAL_YEARS:
        raise RuleViolation("STAFF-01", f"{application.clinical_years} years of independent clinical work; "
                                        f"at least {MIN_CLINICAL_YEARS} are required",
                            clinical_years=application.clinical_years)
    check_credentials_expire(application.credentials)
    check_credentials_in_force(application.credentials, today)
    _departments(application, approved_departments)
    check_departments_in_scope(application.practice_scope, application.departments)


@rule("STAFF-02", "Pharmacists: qualification certificate, title, ID, photo", source="SP 准入")
def check_pharmacist_admission(application: StaffApplication, today: date,
                               approved_departments: Collection[str]) -> None:
    _missing(application, PHARMACIST_CREDENTIALS, "STAFF-02")
    check_credentials_expire(application.credentials)
    check_credentials_in_force(application.credentials, today)


@rule("STAFF-02", "Nurses: qualification and practice registration, ≥3 years", source="SP 准入")
def check_nurse_admission(application: StaffApplication, today: date, approved_departments: Collection[str]) -> None:
    _missing(application, NURSE_CREDENTIALS, "STAFF-02")
    if application.clinical_years < MIN_CLINICAL_YEARS:
        raise RuleViolation("STAFF-02", f"nurses need at least {MIN_CLINICAL_YEARS} years of practice")
    check_credentials_expire(application.credentials)
    check_credentials_in_force(application.credentials, today)
    _departments(application, approved_departments)


def check_admission(application: StaffApplication, today: date, approved_departments: Collection[str]) -> None:
    checks = {StaffKind.DOCTOR: check_doctor_admission, StaffKind.PHARMACIST: check_pharmacist_admission,
              StaffKind.NURSE: check_nurse_admission}
    checks[application.kind](application, today, approved_departments)


@dataclass(frozen=True, slots=True)
class StaffStanding:
    """What decides, at the moment of acting, whether a clinician may practise."""

    kind: StaffKind
    suspended: bool
    departments: tuple[str, ...]
    credentials: tuple[Credential, ...] = field(default_factory=tuple)
    practice_scope: str = ""  # a doctor's 执业范围; its departments are checked at every act


@rule("STAFF-03", "A clinician practises only while not suspended, with valid credentials, in assigned departments",
      source="PD 13")
def check_can_practise(standing: StaffStanding, today: date, department: str | None = None) -> None:
    if standing.suspended:
        raise AccessRefused("STAFF-03", "this clinician's practice is suspended")
    for credential in standing.credentials:
        if credential.valid_until is None and credential.kind not in LIFELONG_CREDENTIALS:
            raise AccessRefused("STAFF-03", f"credential {credential.kind} has no expiry date on record; practice is "
                                            "blocked until it is renewed with one")
        if credential.valid_until is not None and credential.valid_until < today:
            raise AccessRefused("STAFF-03", f"credential {credential.kind} expired on {credential.valid_until}; "
                                            "practice is blocked until it is renewed")
    # A clinician assigned a 一级科目 ("03" 内科) practises in its 二级科目 ("03.04"), as the licence reads (INS-02).
    if department is not None and not any(department_covers(own, department) for own in standing.departments):
        raise AccessRefused("STAFF-03", f"department {department} is not among this clinician's departments")
    if department is not None and standing.kind is StaffKind.DOCTOR:
        try:
            check_departments_in_scope(standing.practice_scope, (department,))
        except RuleViolation as outside:
            raise AccessRefused("STAFF-03", outside.detail) from None


# 抗菌药物临床应用管理办法（卫生部令第84号）第二十四条: 高级专业技术职务任职资格的医师 → 特殊使用级; 中级 → 限制使用级;
# 初级 (and 乡村医生) → 非限制使用级. The grade is what the doctor may prescribe, as the formulary grades drugs.
ANTIMICROBIAL_GRADE_BY_TITLE: dict[str, str] = {
    "主任医师": "special", "副主任医师": "special",
    "主治医师": "restricted",
    "住院医师": "unrestricted", "医师": "unrestricted", "乡村医生": "unrestricted",
}


@rule("RX-04", "A doctor's antimicrobial prescribing grade (抗菌药物处方权) follows the title, recorded at admission",
      source="抗菌药物临床应用管理办法（卫生部令第84号）第二十四条")
def antimicrobial_grade_for(kind: str, title: str) -> str:
    """`special`, `restricted`, `unrestricted` for doctors by title; `none` for other staff and unknown titles
    (no antimicrobial may then be prescribed)."""
    if kind != "doctor":
        return "none"
    return ANTIMICROBIAL_GRADE_BY_TITLE.get(title.strip(), "none")
