"""Direct tests of rules that `hospital conformance prove` found unproven by the fast tests (their use cases are
covered by integration tests only): each fails when its rule is swapped for a no-op."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hospital.biometrics.rules import check_biometric_consent, check_face_not_locked, check_fresh_for_signing
from hospital.core.errors import HospitalError
from hospital.identity.rules import check_session_renewable
from hospital.institution.rules import check_service_open
from hospital.quality.rules import (
    AdverseEventKind,
    ComplaintCategory,
    ComplaintStatus,
    Severity,
    check_adverse_event,
    check_complaint,
    check_complaint_response,
    check_rating,
)
from hospital.security.incidents.rules import (
    IncidentKind,
    IncidentSeverity,
    Leak,
    check_containment,
    check_new_incident,
    check_open,
)
from hospital.staff.rules import (
    Credential,
    StaffApplication,
    StaffKind,
    StaffStanding,
    check_admission,
    check_can_practise,
)

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
TODAY = date(2026, 12, 3)


def refused(rule_id: str, call: object, *args: object, **kwargs: object) -> None:
    with pytest.raises(HospitalError) as refusal:
        call(*args, **kwargs)  # type: ignore[operator]
    assert (getattr(refusal.value, "rule_id", None) or refusal.value.extra.get("rule_id")) == rule_id


@pytest.mark.requirement("FACE-01")
def test_a_face_template_is_used_only_while_the_clinicians_own_consent_stands() -> None:
    given = datetime(2026, 12, 1, 9, tzinfo=UTC)
    check_biometric_consent(given, None)
    refused("FACE-01", check_biometric_consent, None, None)  # pending: the administrator's admission only
    refused("FACE-01", check_biometric_consent, given, given + timedelta(days=1))  # withdrawn


@pytest.mark.requirement("FACE-03")
def test_signing_needs_a_verification_younger_than_the_signing_window() -> None:
    check_fresh_for_signing("doctor", NOW - timedelta(minutes=4), NOW, 300)
    refused("FACE-03", check_fresh_for_signing, "doctor", NOW - timedelta(minutes=6), NOW, 300)
    refused("FACE-03", check_fresh_for_signing, "doctor", None, NOW, 300)


@pytest.mark.requirement("FACE-04")
def test_a_locked_face_verification_is_refused_until_the_lock_ends() -> None:
    check_face_not_locked(None, NOW)
    check_face_not_locked(NOW - timedelta(seconds=1), NOW)
    refused("FACE-04", check_face_not_locked, NOW + timedelta(minutes=10), NOW)


@pytest.mark.requirement("QA-01")
def test_a_visit_is_rated_once_after_it_ended_from_one_to_five() -> None:
    check_rating("completed", 5, False)
    refused("QA-01", check_rating, "in_progress", 5, False)
    refused("QA-01", check_rating, "completed", 4, True)
    refused("QA-01", check_rating, "terminated", 6, False)


@pytest.mark.requirement("QA-01")
def test_a_complaint_names_its_category_and_says_what_happened_and_is_answered_once() -> None:
    category = next(iter(ComplaintCategory))
    assert check_complaint(category.value, "医生迟到二十分钟") is category
    refused("QA-01", check_complaint, category.value, "差")
    refused("QA-01", check_complaint, "no-such-category", "医生迟到二十分钟")
    assert check_complaint_response("open", "resolved", "已致电患者道歉并退费") is ComplaintStatus.RESOLVED
    refused("QA-01", check_complaint_response, "resolved", "resolved", "已致电患者道歉并退费")
    refused("QA-01", check_complaint_response, "open", "ignored", "已致电患者道歉并退费")
    refused("QA-01", check_complaint_response, "open", "resolved", "ok")


@pytest.mark.requirement("QA-01")
def test_an_adverse_event_gives_kind_severity_a_past_date_a_description_and_the_drug() -> None:
    assert check_adverse_event("drug", "mild", TODAY, TODAY, "服药后皮疹", "C08CA01-tab-5mg") == (
        AdverseEventKind("drug"), Severity("mild"))
    refused("QA-01", check_adverse_event, "drug", "mild", TODAY, TODAY, "服药后皮疹", None)
    refused("QA-01", check_adverse_event, "medical", "mild", TODAY + timedelta(days=1), TODAY, "跌倒受伤了", None)
    refused("QA-01", check_adverse_event, "medical", "mild", TODAY, TODAY, "差", None)
    refused("QA-01", check_adverse_event, "medical", "fatal-ish", TODAY, TODAY, "跌倒受伤了", None)


@pytest.mark.requirement("SEC-02")
def test_an_incident_opened_by_a_person_names_kind_severity_what_happened_and_a_past_detection() -> None:
    kind, severity, leak = next(iter(IncidentKind)), next(iter(IncidentSeverity)), next(iter(Leak))
    assert check_new_incident(kind.value, severity.value, leak.value, "批量导出患者信息", NOW, NOW, 3) == (
        kind, severity, leak)
    refused("SEC-02", check_new_incident, kind.value, severity.value, leak.value, "短", NOW, NOW, 3)
    refused("SEC-02", check_new_incident, kind.value, severity.value, leak.value, "批量导出患者信息",
            NOW + timedelta(hours=1), NOW, 3)
    refused("SEC-02", check_new_incident, kind.value, severity.value, leak.value, "批量导出患者信息", NOW, NOW, -1)
    refused("SEC-02", check_new_incident, "no-such-kind", severity.value, leak.value, "批量导出患者信息", NOW, NOW, 3)


@pytest.mark.requirement("QA-02")
def test_clinical_service_stops_while_the_hospital_stopped_it() -> None:
    check_service_open(None)
    refused("QA-02", check_service_open, "药师不足")


@pytest.mark.requirement("SEC-01")
def test_a_session_is_renewed_only_within_its_maximum_length() -> None:
    check_session_renewable(NOW - timedelta(hours=11), NOW, 12 * 3600)
    refused("SEC-01", check_session_renewable, NOW - timedelta(hours=12), NOW, 12 * 3600)
    refused("SEC-01", check_session_renewable, None, NOW, 12 * 3600)


@pytest.mark.requirement("SEC-02")
def test_containment_is_recorded_once_saying_what_stopped_it_and_a_closed_incident_takes_no_steps() -> None:
    check_containment("open", False, "账号已停用")
    refused("SEC-02", check_containment, "open", True, "账号已停用")
    refused("SEC-02", check_containment, "open", False, "ok")
    check_open("open")
    refused("SEC-02", check_open, "closed")


def doctor(**changes: object) -> StaffApplication:
    values: dict[str, object] = dict(
        kind=StaffKind.DOCTOR, real_name="王医生", id_number_valid=True, has_photo=True, title="主任医师",
        clinical_years=15, departments=("03",), practice_category="临床", practice_scope="内科专业",
        practice_institution="示范市第一人民医院",
        credentials=(Credential("physician_qualification", "Z1"), Credential("physician_practice", "P1", date(2029, 1, 1))))
    values.update(changes)
    return StaffApplication(**values)  # type: ignore[arg-type]


@pytest.mark.requirement("STAFF-01")
def test_a_doctor_needs_both_certificates_a_practice_scope_and_three_years() -> None:
    check_admission(doctor(), TODAY, {"03"})
    refused("STAFF-01", check_admission, doctor(clinical_years=2), TODAY, {"03"})
    refused("STAFF-01", check_admission, doctor(practice_scope=""), TODAY, {"03"})
    refused("STAFF-01", check_admission, doctor(credentials=(Credential("physician_qualification", "Z1"),)),
            TODAY, {"03"})


@pytest.mark.requirement("STAFF-03")
def test_a_clinician_practises_only_unsuspended_with_valid_credentials_in_their_departments() -> None:
    standing = StaffStanding(StaffKind.DOCTOR, False, ("03",), (Credential("physician_practice", "P1", date(2029, 1, 1)),),
                             practice_scope="内科专业")
    check_can_practise(standing, TODAY, "03.04")
    refused("STAFF-03", check_can_practise, StaffStanding(StaffKind.DOCTOR, True, ("03",), practice_scope="内科专业"),
            TODAY)
    expired = StaffStanding(StaffKind.DOCTOR, False, ("03",), (Credential("physician_practice", "P1", date(2026, 1, 1)),),
                            practice_scope="内科专业")
    refused("STAFF-03", check_can_practise, expired, TODAY)
    refused("STAFF-03", check_can_practise, standing, TODAY, "04")
    surgeon = StaffStanding(StaffKind.DOCTOR, False, ("03",), (Credential("physician_practice", "P1", date(2029, 1, 1)),),
                            practice_scope="外科专业")  # assigned 内科, but registered for surgery
    refused("STAFF-03", check_can_practise, surgeon, TODAY, "03.04")


@pytest.mark.requirement("FACE-01")
def test_a_face_enrolled_for_another_clinician_is_not_enrolled_again() -> None:
    import uuid

    from hospital.biometrics.rules import check_face_of_no_other_clinician

    other = uuid.uuid4()
    check_face_of_no_other_clinician({}, 0.6)  # the first clinician
    check_face_of_no_other_clinician({other: 0.75, uuid.uuid4(): 0.9}, 0.6)
    refused("FACE-01", check_face_of_no_other_clinician, {other: 0.42, uuid.uuid4(): 0.9}, 0.6)
    refused("FACE-01", check_face_of_no_other_clinician, {other: 0.6}, 0.6)


@pytest.mark.requirement("RX-06")
def test_a_prescription_of_a_terminated_or_cancelled_visit_takes_no_effect() -> None:
    from hospital.prescriptions.rules import check_visit_not_ended

    for open_state in ("accepted", "in_progress", "completed"):
        check_visit_not_ended(open_state)
    refused("RX-06", check_visit_not_ended, "terminated")
    refused("RX-06", check_visit_not_ended, "cancelled")


@pytest.mark.requirement("SEC-01")
def test_a_token_is_good_only_while_its_session_is_open_current_and_the_account_usable() -> None:
    from hospital.identity.rules import check_session_current

    good = {"found": True, "ended_reason": None, "current": True, "active": True, "locked_until": None, "now": NOW}
    check_session_current(**good)  # type: ignore[arg-type]
    check_session_current(**{**good, "locked_until": NOW - timedelta(minutes=1)})  # type: ignore[arg-type]
    for change in ({"found": False}, {"ended_reason": "logout"}, {"current": False}, {"active": False},
                   {"locked_until": NOW + timedelta(minutes=5)}):
        refused("SEC-01", check_session_current, **{**good, **change})
