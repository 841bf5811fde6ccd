"""The regulator's checks as the simulated platform applies them (SUP-03), on a plain in-memory ledger."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.supervision.gateway.methods import business_key
from connectors.supervision.simulator import examples
from connectors.supervision.simulator.checks import (
    Limits,
    controlled_drugs,
    refusal,
    risk_warnings,
)

pytestmark = pytest.mark.requirement("SUP-03")

RECIPE = "uploadRecipeIndicators"


class Ledger:
    def __init__(self) -> None:
        self.held: dict[str, dict[str, dict[str, Any]]] = {}

    def add(self, method: str, record: dict[str, Any]) -> None:
        self.held.setdefault(method, {})[business_key(method, record)[0]] = record

    def find(self, method: str, business_id: str) -> dict[str, Any] | None:
        return self.held.get(method, {}).get(business_id)

    def current(self, method: str) -> list[dict[str, Any]]:
        return list(self.held.get(method, {}).values())


def filed() -> Ledger:
    ledger = Ledger()
    ledger.add("uploadDoctorIndicators", examples.doctor())
    ledger.add("uploadDoctorIndicators", examples.pharmacist())
    ledger.add("uploadDrugCatalogue", examples.drug())
    ledger.add("uploadFaceVerification", examples.face_verification())
    ledger.add("uploadFaceVerification", examples.face_verification(examples.PHARMACIST_CERT))
    ledger.add("uploadReferralIndicators", examples.revisit())
    return ledger


def checks_of(record: dict[str, Any], ledger: Ledger | None = None, method: str = RECIPE) -> list[str]:
    return [w.check for w in risk_warnings(method, record, ledger or filed(), Limits())]


def test_the_example_prescription_raises_no_warning() -> None:
    assert checks_of(examples.prescription()) == []


def test_a_prescription_outside_the_doctors_filed_subject_is_warned() -> None:
    record = {**examples.prescription(), "subjectCode": "07"}
    assert checks_of(record) == ["outside_scope"]


def test_a_clinician_never_filed_is_warned() -> None:
    record = {**examples.prescription(), "doctorCertID": "110101199901010099"}
    assert "unfiled_clinician" in checks_of(record)


def test_a_diagnosis_of_another_category_than_the_revisit_is_warned() -> None:
    warnings = risk_warnings(RECIPE, examples.prescription(icd_code="J45.900"), filed(), Limits())
    assert [w.rule_id for w in warnings] == ["RX-01"]
    assert "I10.x00" in warnings[0].message


def test_a_subcode_of_the_revisits_category_matches() -> None:
    assert checks_of(examples.prescription(icd_code="I10.x05|E11.900")) == []


def test_a_prescription_for_a_revisit_never_sent_is_warned() -> None:
    assert checks_of(examples.prescription(buss_id="R-404")) == ["no_revisit"]


def test_a_controlled_drug_is_warned_by_name() -> None:
    ledger = filed()
    ledger.add("uploadDrugCatalogue", examples.drug("YP-M", "盐酸吗啡缓释片"))
    assert checks_of(examples.prescription(drug_code="YP-M", drug_name="盐酸吗啡缓释片"), ledger) == ["controlled_drug"]


def test_a_controlled_drug_is_found_through_the_catalogue_name_too() -> None:
    ledger = filed()
    ledger.add("uploadDrugCatalogue", examples.drug("YP-D", "地西泮片"))
    assert checks_of(examples.prescription(drug_code="YP-D", drug_name="安定"), ledger) == ["controlled_drug"]


def test_the_controlled_list_holds_both_narcotics_and_psychotropics() -> None:
    classes = {drug_class for _, drug_class in controlled_drugs()}
    assert {"麻醉药品", "第一类精神药品", "第二类精神药品"} <= classes


def test_more_days_than_the_limit_is_over_quantity() -> None:
    assert checks_of(examples.prescription(use_days=8)) == ["over_quantity"]
    assert checks_of(examples.prescription(use_days=7)) == []


def test_a_drug_missing_from_the_catalogue_is_warned() -> None:
    assert checks_of(examples.prescription(drug_code="YP404")) == ["drug_not_in_catalogue"]


def test_a_prescription_before_any_catalogue_says_so() -> None:
    ledger = filed()
    ledger.held.pop("uploadDrugCatalogue")
    warnings = risk_warnings(RECIPE, examples.prescription(), ledger, Limits())
    assert [w.check for w in warnings] == ["drug_not_in_catalogue"]
    assert "before any drug catalogue" in warnings[0].message


def test_a_doctor_without_a_passing_face_verification_that_day_is_unverified() -> None:
    ledger = filed()
    ledger.held["uploadFaceVerification"] = {}
    ledger.add("uploadFaceVerification", examples.face_verification(passed=False))
    ledger.add("uploadFaceVerification", examples.face_verification(examples.PHARMACIST_CERT))
    ledger.add("uploadFaceVerification", examples.face_verification(at="2024-06-11 09:00:00"))
    assert checks_of(examples.prescription(), ledger) == ["unverified_clinician"]


def test_a_face_verification_after_the_prescription_does_not_count() -> None:
    ledger = filed()
    ledger.held["uploadFaceVerification"] = {}
    ledger.add("uploadFaceVerification", examples.face_verification(at="2024-06-12 23:00:00"))
    assert checks_of(examples.prescription(), ledger) == ["unverified_clinician"]


def test_a_reviewer_who_is_not_a_filed_pharmacist_is_warned() -> None:
    record = {**examples.prescription(), "auditDoctorCertID": examples.DOCTOR_CERT}
    assert checks_of(record) == ["reviewer_not_pharmacist"]


def test_a_review_needs_the_pharmacists_face_verification() -> None:
    ledger = filed()
    assert checks_of(examples.review(), ledger, "uploadRecipeAuditIndicators") == []
    ledger.held["uploadFaceVerification"] = {}
    assert checks_of(examples.review(), ledger, "uploadRecipeAuditIndicators") == ["unverified_clinician"]


def test_a_rating_of_a_business_never_sent_is_refused() -> None:
    ledger = filed()
    assert refusal("uploadBusinessInfoAfter", {**examples.rating(), "unitID": "U"}, ledger, unit_id="U") is None
    reason = refusal("uploadBusinessInfoAfter", {**examples.rating(buss_id="R-404"), "unitID": "U"}, ledger,
                     unit_id="U")
    assert reason is not None and "R-404" in reason


def test_a_record_of_another_unit_is_refused() -> None:
    reason = refusal("uploadDrugCatalogue", {**examples.drug(), "unitID": "OTHER"}, filed(), unit_id="U")
    assert reason is not None and "OTHER" in reason


REVIEW, CIRCULATION = "uploadRecipeAuditIndicators", "uploadRecipeCirculationIndicators"


def circulation(delivered_at: str = f"{examples.DAY} 10:00:00") -> dict[str, Any]:
    return {**examples.ORGAN, "recipeUniqueID": "RX-0001", "deliveryType": "1", "deliveryStatus": "dispensed",
            "deliveryDate": delivered_at, "updateTime": delivered_at}


def test_a_reviewer_signing_under_another_name_than_filed_is_warned() -> None:
    assert checks_of(examples.review(), method=REVIEW) == []
    assert checks_of({**examples.review(), "auditDoctor": "李药师"}, method=REVIEW) == ["reviewer_name_mismatch"]
    assert checks_of({**examples.review(), "auditDoctorCertID": examples.DOCTOR_CERT},
                     method=REVIEW) == ["reviewer_not_pharmacist"]


def test_a_rational_flag_that_contradicts_its_findings_is_warned() -> None:
    assert checks_of({**examples.prescription(), "rationalFlag": "0", "rationalIssues": "RX-03:excessive"}) == []
    assert checks_of({**examples.prescription(), "rationalFlag": "1", "rationalIssues": "RX-03:excessive"}) == [
        "rational_flag_contradiction"]
    assert checks_of({**examples.review(), "rationalFlag": "0"}, method=REVIEW) == ["rational_flag_contradiction"]


def test_a_prescription_issued_before_its_visit_began_is_warned() -> None:
    early = {**examples.prescription(), "datein": f"{examples.DAY} 09:05:00"}  # the revisit starts at 09:10
    assert "prescription_before_visit" in checks_of(early)
    ledger = Ledger()  # only the consult is held yet (real time): it is the visit's start
    for method, record in filed().held.items():
        if method != "uploadReferralIndicators":
            for item in record.values():
                ledger.add(method, item)
    ledger.add("uploadConsultIndicators", {**examples.revisit(), "startDate": f"{examples.DAY} 09:30:00"})
    assert checks_of(examples.prescription(), ledger) == ["prescription_before_visit"]


def test_a_dispensing_before_its_approval_is_warned() -> None:
    ledger = filed()
    ledger.add(RECIPE, {**examples.prescription(), "auditDoctorCertID": "", "auditDoctor": ""})
    assert checks_of(circulation(), ledger, CIRCULATION) == ["dispensed_before_approval"]  # no approval at all
    ledger.add(REVIEW, examples.review())  # approved at 09:40
    assert checks_of(circulation(), ledger, CIRCULATION) == []
    assert checks_of(circulation(f"{examples.DAY} 09:30:00"), ledger, CIRCULATION) == ["dispensed_before_approval"]
    ledger.add(REVIEW, {**examples.review(), "auditStatus": "0"})  # rejected
    assert checks_of(circulation(), ledger, CIRCULATION) == ["dispensed_before_approval"]


def test_a_long_prescription_with_its_reason_is_no_over_quantity_and_one_without_is() -> None:
    four_weeks = examples.prescription(use_days=28)
    assert checks_of(four_weeks) == ["over_quantity"]
    assert checks_of({**four_weeks, "longRecipeReason": "高血压病情稳定，长期用药"}) == []
    assert checks_of({**examples.prescription(use_days=90), "longRecipeReason": "长期用药"}) == ["over_quantity"]


def test_a_risk_warning_the_hospital_reports_is_listed_for_the_supervisor() -> None:
    warning = {**examples.ORGAN, "eventID": "security_incident:1", "businessType": "3",
               "warningType": "security_incident", "eventDescription": "网络安全事件"}
    assert checks_of(warning, method="pushMedicalDispute") == ["reported_security_incident"]
    assert checks_of({**warning, "businessType": "1"}, method="pushMedicalDispute") == []


BUSINESS, APPOINTMENT, DEPARTMENT = "openDoctorBusiness", "uploadAppointRecord", "uploadDepartmentInfo"


def business(status: str, applied: str, period: tuple[str, str] | None = None) -> dict[str, Any]:
    record = {**examples.ORGAN, "doctorID": "D-0011", "doctorName": "李医生", "doctorCertID": examples.DOCTOR_CERT,
              "businessType": "1", "businessStatus": status, "applyDate": applied}
    if period is not None:
        record |= {"startTime": period[0], "endTime": period[1]}
    return record


def appointment(booked: str, at: str, status: str = "1") -> dict[str, Any]:
    return {**examples.ORGAN, "bussID": "V-0001", "doctorCertID": examples.DOCTOR_CERT,
            "patientCertID": "310101196801010033", "subjectCode": examples.INTERNAL_MEDICINE, "appointDate": at,
            "appointStatus": status, "updateTime": booked}


MORNING = (f"{examples.DAY} 09:00:00", f"{examples.DAY} 11:00:00")


@pytest.mark.requirement("REV-06")
def test_a_booking_in_a_withdrawn_period_or_while_suspended_is_warned_and_one_elsewhere_is_not() -> None:
    withdrawn = filed()
    withdrawn.add(BUSINESS, business("1", f"{examples.DAY} 07:00:00", MORNING))
    assert checks_of(appointment(f"{examples.DAY} 08:00:00", MORNING[0]), withdrawn, APPOINTMENT) == []
    withdrawn.add(BUSINESS, business("0", f"{examples.DAY} 08:30:00", MORNING))  # 停诊: the morning withdrawn
    assert checks_of(appointment(f"{examples.DAY} 08:40:00", f"{examples.DAY} 09:30:00"), withdrawn,
                     APPOINTMENT) == ["booked_while_closed"]
    # Booked before the withdrawal (it is cancelled with it), cancelled, or in another period: nothing to warn.
    assert checks_of(appointment(f"{examples.DAY} 08:00:00", MORNING[0]), withdrawn, APPOINTMENT) == []
    assert checks_of(appointment(f"{examples.DAY} 08:40:00", MORNING[0], "0"), withdrawn, APPOINTMENT) == []
    assert checks_of(appointment(f"{examples.DAY} 08:40:00", f"{examples.DAY} 14:00:00"), withdrawn,
                     APPOINTMENT) == []
    suspended = filed()
    suspended.add(BUSINESS, business("0", f"{examples.DAY} 08:30:00"))  # suspension: no period, all of it
    assert checks_of(appointment(f"{examples.DAY} 08:40:00", f"{examples.DAY} 14:00:00"), suspended,
                     APPOINTMENT) == ["booked_while_closed"]


@pytest.mark.requirement("INS-02")
def test_where_departments_are_filed_a_visit_in_a_withdrawn_or_unfiled_subject_is_warned() -> None:
    ledger = filed()
    assert checks_of(examples.revisit(), ledger, "uploadReferralIndicators") == []  # no departments: not checked
    ledger.add(DEPARTMENT, {**examples.ORGAN, "deptCode": "03.04", "deptName": "心血管内科专业", "deptStatus": "1",
                            "updateTime": f"{examples.DAY} 07:00:00"})
    assert checks_of(examples.revisit(), ledger, "uploadReferralIndicators") == []
    assert checks_of({**examples.revisit(), "subjectCode": "07"}, ledger, "uploadReferralIndicators") == [
        "outside_scope", "department_not_open"]
    ledger.add(DEPARTMENT, {**examples.ORGAN, "deptCode": "03.04", "deptName": "心血管内科专业", "deptStatus": "0",
                            "updateTime": f"{examples.DAY} 08:00:00"})
    assert checks_of(examples.revisit(), ledger, "uploadReferralIndicators") == ["department_not_open"]
