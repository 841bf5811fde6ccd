from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from hospital.core.errors import RuleViolation
from hospital.staff.rules import Credential, StaffApplication, StaffKind, check_admission

pytestmark = pytest.mark.requirement("STAFF-02")

TODAY = date(2026, 11, 23)


def application(kind: StaffKind, **changes: object) -> StaffApplication:
    values: dict[str, object] = dict(
        kind=kind, real_name="李药师", id_number_valid=True, has_photo=True, title="主管药师", clinical_years=5,
        departments=("03",), credentials=(Credential("pharmacist_qualification", "YS1", date(2028, 1, 1)),
                                          Credential("nurse_qualification", "HS1"),
                                          Credential("nurse_practice", "HZ1", date(2028, 1, 1))))
    values.update(changes)
    return StaffApplication(**values)  # type: ignore[arg-type]


def test_a_pharmacist_with_a_qualification_certificate_is_admitted() -> None:
    check_admission(application(StaffKind.PHARMACIST), TODAY, {"03"})


@pytest.mark.parametrize(
    ("kind", "changes", "words"),
    [
        (StaffKind.PHARMACIST, {"credentials": ()}, "pharmacist_qualification"),
        (StaffKind.PHARMACIST, {"has_photo": False}, "photo"),
        (StaffKind.PHARMACIST, {"title": " "}, "title"),
        (StaffKind.NURSE, {"credentials": (Credential("nurse_qualification", "HS1"),)}, "nurse_practice"),
        (StaffKind.NURSE, {"clinical_years": 2}, "3 years"),
    ],
)
def test_pharmacists_and_nurses_missing_what_staff_02_names_are_refused(kind: StaffKind, changes: dict[str, object],
                                                                         words: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_admission(application(kind, **changes), TODAY, {"03"})
    assert refused.value.rule_id == "STAFF-02" and words in refused.value.detail


@pytest.mark.requirement("STAFF-03")
def test_every_credential_but_a_lifelong_qualification_carries_its_expiry_date() -> None:
    from datetime import date

    from hospital.staff.rules import check_credentials_expire

    check_credentials_expire([Credential("physician_qualification", "Q1"),  # 资格证书: lifelong
                              Credential("physician_practice", "P1", date(2029, 1, 1))])
    with pytest.raises(RuleViolation) as refused:
        check_credentials_expire([Credential("physician_practice", "P1")])
    assert refused.value.rule_id == "STAFF-03" and "physician_practice" in refused.value.detail
    with pytest.raises(RuleViolation) as at_admission:  # at admission too: the clause is STAFF-03's
        check_admission(application(StaffKind.NURSE, credentials=(Credential("nurse_qualification", "HS1"),
                                                                  Credential("nurse_practice", "HZ1"))), TODAY, {"03"})
    assert at_admission.value.rule_id == "STAFF-03" and "nurse_practice" in at_admission.value.detail


@pytest.mark.requirement("STAFF-03")
@pytest.mark.parametrize("kind", list(StaffKind))
def test_an_admission_with_an_expired_credential_is_refused_naming_staff_03(kind: StaffKind) -> None:
    """Expired credentials block practice (STAFF-03), so they block the admission, and the refusal names the
    rule that decides it, whatever the kind of clinician."""
    from hospital.staff.rules import check_credentials_in_force

    doctor = {"credentials": (Credential("physician_qualification", "Z1"), Credential("physician_practice", "P1",
                                                                                      date(2028, 1, 1))),
              "practice_category": "临床", "practice_scope": "内科专业", "practice_institution": "示范市第一人民医院"}
    given = doctor if kind is StaffKind.DOCTOR else {}
    held = application(kind, **given).credentials
    expired = tuple(dataclasses.replace(c, valid_until=TODAY - timedelta(days=1)) if c.valid_until else c for c in held)
    check_admission(application(kind, **given), TODAY, {"03"})
    with pytest.raises(RuleViolation) as refused:
        check_admission(application(kind, **{**given, "credentials": expired}), TODAY, {"03"})
    assert refused.value.rule_id == "STAFF-03" and "expired on" in refused.value.detail
    check_credentials_in_force(held, TODAY)


def test_a_doctors_antimicrobial_grade_follows_the_title() -> None:
    from hospital.staff.rules import antimicrobial_grade_for

    assert [antimicrobial_grade_for("doctor", t) for t in ("主任医师", "副主任医师", "主治医师", "住院医师", "见习")] == [
        "special", "special", "restricted", "unrestricted", "none"]
    assert antimicrobial_grade_for("pharmacist", "主任药师") == "none"
