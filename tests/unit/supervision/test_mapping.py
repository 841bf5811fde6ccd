"""The mapping registry: each event family's records are complete for the platform (no -99), spelled as the
SDK spells them, and the outcomes for events with no mapper or no platform record (SUP-02, SUP-03)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from connectors.supervision.catalogue import catalogue_payload
from connectors.supervision.gateway.methods import missing_required
from connectors.supervision.mapping import (
    After,
    EventView,
    MapContext,
    Mapped,
    MappingFailed,
    NotReported,
    PatientRef,
    Requires,
    StaffRef,
    UnmappedEvent,
    contract,
    map_event,
    registry,
)
from connectors.supervision.mapping.quality import DAILY_DISPUTES
from hospital.prescriptions.formulary import load_formulary

ORGAN = "91310115MA1HDEMO0X"
AT = datetime(2024, 6, 12, 1, 10, tzinfo=UTC)  # 09:10 in Shanghai
DOCTOR = StaffRef(str(uuid.uuid4()), str(uuid.uuid4()), "王医生", "110105198001011238", "doctor", "主任医师",
                  ("03", "03.03"))
PHARMACIST = StaffRef(str(uuid.uuid4()), str(uuid.uuid4()), "李药师", "110105198505052228", "pharmacist", "主管药师")
PATIENT = PatientRef(str(uuid.uuid4()), str(uuid.uuid4()), "张三", "11010519491231002X", date(1949, 12, 31), "female")
CHILD = PatientRef(str(uuid.uuid4()), str(uuid.uuid4()), "小明", "110105202001010011", date(2020, 1, 1), "male")
VISIT = str(uuid.uuid4())


class Refs:
    def staff(self, *, user_id: str | None = None, staff_id: str | None = None) -> StaffRef | None:
        return next((s for s in (DOCTOR, PHARMACIST) if s.user_id == user_id or s.staff_id == staff_id), None)

    def patient(self, *, patient_id: str | None = None, user_id: str | None = None) -> PatientRef | None:
        return next((p for p in (PATIENT, CHILD) if p.patient_id == patient_id or p.user_id == user_id), None)

    def department_name(self, code: str) -> str | None:
        return {"03": "内科", "03.03": "心血管内科专业", "07": "儿科"}.get(code)

    def earlier(self, event_type: str, subject_id: str) -> dict[str, Any] | None:
        return None

    def open_sealed(self, sealed: str) -> str:
        raise AssertionError("no sealed payloads here")


CTX = MapContext(ORGAN, "示范互联网医院", ZoneInfo("Asia/Shanghai"), Refs())


def event(event_type: str, payload: dict[str, Any], subject_id: str = "s-1") -> EventView:
    return EventView(1, event_type, "subject", subject_id, 1, AT, payload)


def mapped(event_type: str, payload: dict[str, Any]) -> Mapped:
    outcome = map_event(event(event_type, payload), CTX)
    assert isinstance(outcome, Mapped), outcome
    for record in outcome.records:
        assert missing_required(outcome.method, {**record, "unitID": "U"}) == [], (event_type, record)
    return outcome


STAFF_PAYLOAD = {
    "staff_id": DOCTOR.staff_id, "kind": "doctor", "name": "王医生", "id_number": DOCTOR.id_number, "sex": "male",
    "birth_date": "1980-01-01", "title": "主任医师", "practice_category": "临床", "practice_scope": "内科专业",
    "practice_institution": "示范市第一人民医院", "clinical_years": 15, "departments": ["03.03", "03.08"],
    "credentials": [{"kind": "physician_qualification", "number": "199831110000001", "valid_until": None},
                    {"kind": "physician_practice", "number": "110310000000001", "valid_until": "2029-01-01"}],
    "photo_sha256": "ab" * 32, "suspended": False, "suspension_reason": None,
}


def test_a_doctor_is_filed_under_the_category_of_the_first_department_with_both_certificates() -> None:
    record = mapped("staff.record", STAFF_PAYLOAD).records[0]
    assert (record["subjectCode"], record["subjectName"], record["doctorWorkType"]) == ("03", "内科", "1")
    assert (record["doctorCertCode"], record["doctorWorkCode"]) == ("199831110000001", "110310000000001")
    assert record["doctorCertID"] == DOCTOR.id_number and record["organID"] == ORGAN
    assert record["updateTime"] == "2024-06-12 09:10:00"  # the platform's version: the change's local time


def test_a_pharmacist_is_filed_with_the_qualification_as_practice_certificate_and_no_subject() -> None:
    payload = {**STAFF_PAYLOAD, "kind": "pharmacist", "departments": [],
               "credentials": [{"kind": "pharmacist_qualification", "number": "YS2010310001"}]}
    record = mapped("staff.record", payload).records[0]
    assert (record["doctorWorkType"], record["subjectCode"], record["subjectName"]) == ("2", "", "药剂科")
    assert record["doctorCertCode"] == record["doctorWorkCode"] == "YS2010310001"


def test_the_licence_is_the_institution_record() -> None:
    payload = {"licence_number": "PDY0001", "institution_name": "示范市第一人民医院",
               "internet_hospital_name": "示范互联网医院", "issuer": "示范市卫生健康委员会",
               "valid_from": "2024-01-01", "valid_until": "2028-12-31",
               "service_modes": ["互联网诊疗"], "address": "示范路1号", "legal_representative": "赵院长"}
    record = mapped("institution.licence", payload).records[0]
    assert (record["internetPermit"], record["authority"], record["endDate"]) == ("PDY0001", "示范市卫生健康委员会",
                                                                                  "2028-12-31")


def test_a_face_verification_names_the_clinician_by_id_number_and_waits_for_the_staff_record() -> None:
    payload = {"verification_id": "v-1", "user_id": DOCTOR.user_id, "at": AT.isoformat(), "passed": False,
               "reason": "mismatch", "distance": 0.8, "tolerance": 0.5}
    outcome = mapped("face.verification", payload)
    record = outcome.records[0]
    assert (record["doctorCertID"], record["verifyResult"], record["verifyTime"]) == (
        DOCTOR.id_number, "0", "2024-06-12 09:10:00")
    assert outcome.after == (After("staff", DOCTOR.staff_id),)


def test_a_completed_visit_is_the_revisit_record_with_the_prior_diagnosis() -> None:
    payload = contract.visit_completed(VISIT, PATIENT.patient_id, DOCTOR.user_id, AT)
    record = mapped("visit.completed", payload).records[0]
    assert (record["bussID"], record["subjectCode"], record["mainDiagnoseCode"]) == (VISIT, "03", "I10")
    assert (record["patientCertID"], record["age"], record["answerFlag"]) == (PATIENT.id_number, 74, "1")
    assert record["startDate"] == "2024-06-12 09:10:00" and record["endDate"] == "2024-06-12 09:25:00"


def test_a_child_without_a_guardian_is_refused_before_sending_naming_the_guardian_fields() -> None:
    payload = contract.visit_completed(VISIT, CHILD.patient_id, DOCTOR.user_id, AT)
    outcome = map_event(event("visit.completed", payload), CTX)
    assert isinstance(outcome, Mapped) and outcome.records[0]["age"] == 4
    assert missing_required(outcome.method, {**outcome.records[0], "unitID": "U"}) == [
        "guardianCertID", "guardianName", "guardianMobile"]


def test_a_prescription_goes_when_approved_after_its_revisit_record() -> None:
    payload = contract.prescription_approved("p-1", VISIT, PATIENT.patient_id, DOCTOR.user_id, PHARMACIST.user_id, AT)
    outcome = mapped("prescription.approved", payload)
    record = outcome.records[0]
    assert outcome.requires == (Requires("uploadReferralIndicators", VISIT),)
    assert (record["auditDoctorCertID"], record["icdCode"], record["recipeType"]) == (PHARMACIST.id_number, "I10", "1")
    assert record["orderList"][0] == {"drcode": "C08CA01-tab-5mg", "drname": "苯磺酸氨氯地平片", "drmodel": "5mg*28片",
                                      "admission": "口服", "frequency": "qd", "dosage": "5", "drunit": "mg",
                                      "dosageTotal": "1", "doseUnit": "盒", "useDays": 7, "otcFlag": "0"}
    not_yet = map_event(event("prescription.submitted", payload), CTX)
    assert isinstance(not_yet, NotReported)


def test_review_dispensing_and_rating_map_to_their_methods() -> None:
    review = mapped("review.approved", contract.review("p-1", PHARMACIST.user_id, AT)).records[0]
    assert (review["auditStatus"], review["checkDate"]) == ("1", "2024-06-12 09:10:00")
    rejected = mapped("review.rejected", contract.review("p-2", PHARMACIST.user_id, AT, decision="rejected"))
    assert rejected.records[0]["auditStatus"] == "0"
    dispensed = mapped("dispensing.shipped", contract.dispensing("p-1", PHARMACIST.user_id, AT))
    assert dispensed.requires == (Requires("uploadRecipeIndicators", "p-1"),)
    rated = mapped("rating.submitted", contract.rating("r-1", VISIT, DOCTOR.user_id, AT))
    assert rated.requires == (Requires("uploadReferralIndicators", VISIT),)
    assert mapped("emr.signed", contract.emr_signed(VISIT, PATIENT.patient_id, DOCTOR.user_id, AT)).requires == (
        Requires("uploadReferralIndicators", VISIT),)


def test_the_catalogue_files_every_formulary_drug_and_controlled_ones_as_not_in_use() -> None:
    outcome = mapped("formulary.catalogue", msgspec.to_builtins(catalogue_payload(load_formulary())))
    by_code = {r["hospDrugCode"]: r for r in outcome.records}
    assert len(by_code) == len(load_formulary())
    assert by_code["C08CA01-tab-5mg"]["hospDrugPacking"] == "5mg*28tablet"
    assert by_code["N02AA01-tab-10mg"]["useFlag"] == "0" and by_code["C08CA01-tab-5mg"]["useFlag"] == "1"


def test_the_daily_check_in_is_an_empty_push_only_on_a_day_without_disputes() -> None:
    quiet = map_event(event(DAILY_DISPUTES, {"day": "2024-06-11", "dispute_events": 0}), CTX)
    assert isinstance(quiet, Mapped) and quiet.records == [] and quiet.day == date(2024, 6, 11)
    busy = map_event(event(DAILY_DISPUTES, {"day": "2024-06-11", "dispute_events": 2}), CTX)
    assert isinstance(busy, NotReported)


def test_an_event_type_without_a_mapper_is_unmapped_and_a_department_is_not_reported() -> None:
    assert map_event(event("telemedicine.future_thing", {}), CTX) == UnmappedEvent("telemedicine.future_thing")
    assert isinstance(map_event(event("institution.department", {"code": "03"}), CTX), NotReported)


def test_a_payload_missing_a_contract_key_fails_naming_the_key() -> None:
    with pytest.raises(MappingFailed, match="ended_at"):
        map_event(event("visit.completed", {"patient_id": PATIENT.patient_id, "doctor_user_id": DOCTOR.user_id}), CTX)


def test_a_naive_time_is_refused_rather_than_guessed() -> None:
    payload = {**contract.rating("r-1", VISIT, DOCTOR.user_id, AT), "rated_at": "2024-06-12T09:10:00"}
    with pytest.raises(MappingFailed, match="no zone"):
        map_event(event("rating.submitted", payload), CTX)


def test_every_registered_event_type_belongs_to_one_family_module() -> None:
    assert {"staff.record", "face.verification", "prescription.approved", "visit.completed"} <= set(registry())


def test_a_video_visit_paused_by_the_face_watch_is_a_failed_verification_of_that_visit() -> None:
    paused = mapped("video.paused", {"visit_id": VISIT, "doctor_user_id": DOCTOR.user_id, "paused_at": AT.isoformat(),
                                     "reason": "face_mismatch", "for_s": 6.0})
    (record,) = paused.records
    assert paused.method == "uploadFaceVerification" and missing_required(paused.method, {"unitID": "U", **record}) == []
    assert (record["verifyResult"], record["bussID"], record["doctorCertID"]) == ("0", VISIT, DOCTOR.id_number)
    assert record["verifyTime"] == "2024-06-12 09:10:00" and After("staff", DOCTOR.staff_id) in paused.after
    resumed = map_event(event("video.resumed", {"visit_id": VISIT, "doctor_user_id": DOCTOR.user_id}), CTX)
    assert isinstance(resumed, NotReported) and "face.verification" in resumed.reason


@pytest.mark.parametrize("event_type", ["institution.service_stopped", "institution.service_resumed"])
def test_a_service_stop_is_skipped_with_the_reason(event_type: str) -> None:
    outcome = map_event(event(event_type, {"reason": "设备检修"}), CTX)
    assert isinstance(outcome, NotReported) and "QA-02" in outcome.reason
