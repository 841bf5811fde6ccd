"""The mapping registry: each event family's records are complete for the platform (no -99), spelled as the
SDK spells them, and the outcomes for events with no mapper or no platform record (SUP-02, SUP-03). Payloads are
the contract Structs the areas emit (hospital/contracts, built by tests/payloads.py)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from connectors.supervision.catalogue import catalogue_payload
from connectors.supervision.gateway.methods import business_key, missing_required
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
    event_view,
    map_event,
    registry,
)
from connectors.supervision.mapping.prescriptions import rational
from connectors.supervision.mapping.quality import DAILY_DISPUTES
from connectors.supervision.settings import load_connector_settings
from hospital.contracts import Payload
from hospital.contracts.biometrics import FaceVerified, SecurityAlert
from hospital.contracts.institution import DepartmentSet, LicenceRecorded, ServiceResumed, ServiceStopped
from hospital.contracts.prescriptions import DeliveryStep, Finding
from hospital.contracts.security import IncidentChanged
from hospital.contracts.staff import Credential, DoctorBusinessChanged
from hospital.contracts.supervision import DailyDisputes
from hospital.contracts.video import VideoPaused, VideoResumed
from hospital.contracts.visits import SchedulePublished, ScheduleWithdrawn, VisitAccepted
from hospital.prescriptions.formulary.tables import load_formulary
from tests import payloads

pytestmark = pytest.mark.requirement("SUP-02", "SUP-03")

ORGAN = "91310115MA1HDEMO0X"
AT = datetime(2024, 6, 12, 1, 10, tzinfo=UTC)  # 09:10 in Shanghai
DOCTOR = StaffRef(str(uuid.uuid4()), str(uuid.uuid4()), "王医生", "110105198001011238", "doctor", "主任医师",
                  ("03", "03.03"))
PHARMACIST = StaffRef(str(uuid.uuid4()), str(uuid.uuid4()), "李药师", "110105198505052228", "pharmacist", "主管药师")
PATIENT = PatientRef(str(uuid.uuid4()), str(uuid.uuid4()), "张三", "11010519491231002X", date(1949, 12, 31), "female")
CHILD = PatientRef(str(uuid.uuid4()), str(uuid.uuid4()), "小明", "110105202001010011", date(2020, 1, 1), "male")
VISIT = str(uuid.uuid4())


RX, DISPENSING = str(uuid.uuid4()), str(uuid.uuid4())
SUBMITTED = payloads.prescription_submitted(RX, VISIT, PATIENT.patient_id, DOCTOR.staff_id, AT)
DISPENSED = payloads.dispensed(DISPENSING, RX, PHARMACIST.user_id, AT + timedelta(hours=1))


class Refs:
    """The directory with no earlier events loaded."""

    found: Mapping[tuple[str, str], Payload] = {}

    def staff(self, *, user_id: str | None = None, staff_id: str | None = None) -> StaffRef | None:
        return next((s for s in (DOCTOR, PHARMACIST) if s.user_id == user_id or s.staff_id == staff_id), None)

    def patient(self, *, patient_id: str | None = None, user_id: str | None = None) -> PatientRef | None:
        return next((p for p in (PATIENT, CHILD) if p.patient_id == patient_id or p.user_id == user_id), None)

    def department_name(self, code: str) -> str | None:
        return {"03": "内科", "03.03": "心血管内科专业", "07": "儿科"}.get(code)

    def earlier(self, event_type: str, subject_id: str) -> Payload | None:
        return self.found.get((event_type, subject_id))

    def open_sealed(self, sealed: str) -> str:
        raise AssertionError("no sealed payloads here")


class Earlier(Refs):
    """The directory after `prepare`: the prescription's and the dispensing's first events are loaded."""

    found = {("prescription.submitted", RX): SUBMITTED, ("dispensing.dispensed", DISPENSING): DISPENSED}


CTX = MapContext(ORGAN, "示范互联网医院", ZoneInfo("Asia/Shanghai"), Refs())
LOADED = MapContext(ORGAN, "示范互联网医院", ZoneInfo("Asia/Shanghai"), Earlier())
ZHEJIANG = dataclasses.replace(LOADED, prescription_at_signing=False)  # a prescription reported once approved


def event(event_type: str, payload: Payload | dict[str, Any], subject_id: str = "s-1") -> EventView[Any]:
    """The event as the dispatcher hands it to a mapper: its payload converted into its contract Struct."""
    view = event_view(1, event_type, "subject", subject_id, 1, AT, payload)
    assert isinstance(view, EventView), view
    return view


def mapped(event_type: str, payload: Payload | dict[str, Any], ctx: MapContext = CTX) -> Mapped:
    outcome = map_event(event(event_type, payload), ctx)
    assert isinstance(outcome, Mapped), outcome
    for record in outcome.records:
        assert missing_required(outcome.method, {**record, "unitID": "U"}) == [], (event_type, record)
    return outcome


STAFF_PAYLOAD = payloads.staff_record(DOCTOR.staff_id, departments=["03.03", "03.08"])


def test_a_doctor_is_filed_under_the_category_of_the_first_department_with_both_certificates() -> None:
    record = mapped("staff.record", STAFF_PAYLOAD).records[0]
    assert (record["subjectCode"], record["subjectName"], record["doctorWorkType"]) == ("03", "内科", "1")
    assert (record["doctorCertCode"], record["doctorWorkCode"]) == ("199831110000001", "110310000000001")
    assert record["doctorCertID"] == DOCTOR.id_number and record["organID"] == ORGAN
    assert record["birthday"] == "1980-01-01" and record["doctorYears"] == 15
    assert record["updateTime"] == "2024-06-12 09:10:00"  # the platform's version: the change's local time


def test_a_pharmacist_is_filed_with_the_qualification_as_practice_certificate_and_no_subject() -> None:
    payload = payloads.staff_record(PHARMACIST.staff_id, kind="pharmacist", departments=[],
                                    credentials=[Credential(kind="pharmacist_qualification", number="YS2010310001")])
    record = mapped("staff.record", payload).records[0]
    assert (record["doctorWorkType"], record["subjectCode"], record["subjectName"]) == ("2", "", "药剂科")
    assert record["doctorCertCode"] == record["doctorWorkCode"] == "YS2010310001"


def test_the_licence_is_the_institution_record() -> None:
    payload = LicenceRecorded(licence_number="PDY0001", institution_name="示范市第一人民医院",
                              internet_hospital_name="示范互联网医院", issuer="示范市卫生健康委员会",
                              valid_from=date(2024, 1, 1), valid_until=date(2028, 12, 31),
                              service_modes=["互联网诊疗"], address="示范路1号", legal_representative="赵院长")
    record = mapped("institution.licence", payload).records[0]
    assert (record["internetPermit"], record["authority"], record["endDate"]) == ("PDY0001", "示范市卫生健康委员会",
                                                                                  "2028-12-31")


def test_a_face_verification_names_the_clinician_by_id_number_and_waits_for_the_staff_record() -> None:
    payload = FaceVerified(verification_id="v-1", user_id=DOCTOR.user_id, at=AT, passed=False, reason="mismatch",
                           distance=0.8, tolerance=0.5)
    outcome = mapped("face.verification", payload)
    record = outcome.records[0]
    assert (record["doctorCertID"], record["verifyResult"], record["verifyTime"]) == (
        DOCTOR.id_number, "0", "2024-06-12 09:10:00")
    assert (record["verifyID"], record["scene"], record["bussID"]) == ("v-1", "执业核验", "")
    assert outcome.after == (After("staff", DOCTOR.staff_id),)
    # Our own method is an option: a platform that does not take it gets none (the SDK has no such method).
    standard_only = dataclasses.replace(CTX, face_uploads=False)
    assert isinstance(map_event(event("face.verification", payload), standard_only), NotReported)
    assert not load_connector_settings({"HOSPITAL_SUPERVISION_FACE_UPLOADS": "0"}).face_uploads


def test_a_completed_visit_is_the_revisit_record_with_the_prior_diagnosis() -> None:
    payload = payloads.revisit_record(VISIT, PATIENT.patient_id, DOCTOR.user_id, AT)
    record = mapped("visit.completed", payload).records[0]
    assert (record["bussID"], record["subjectCode"], record["mainDiagnoseCode"]) == (VISIT, "03", "I10")
    assert (record["patientCertID"], record["age"], record["answerFlag"]) == (PATIENT.id_number, 74, "1")
    assert record["startDate"] == "2024-06-12 09:10:00" and record["endDate"] == "2024-06-12 09:25:00"
    assert (record["originalDiagnosis"], record["referralFlag"], record["refuseType"]) == ("原发性高血压", "1", "")


def test_a_child_without_a_guardian_is_refused_before_sending_naming_the_guardian_fields() -> None:
    payload = payloads.revisit_record(VISIT, CHILD.patient_id, DOCTOR.user_id, AT, patient_age=4)
    outcome = map_event(event("visit.completed", payload), CTX)
    assert isinstance(outcome, Mapped) and outcome.records[0]["age"] == 4
    assert missing_required(outcome.method, {**outcome.records[0], "unitID": "U"}) == [
        "guardianCertID", "guardianName", "guardianMobile"]


def test_a_visit_withdrawn_before_it_was_answered_is_a_cancelled_appointment_and_one_withdrawn_after_is_ended(
) -> None:
    booked = payloads.revisit_record(VISIT, PATIENT.patient_id, DOCTOR.user_id, AT, state="cancelled",
                                     accepted_at=None, started_at=None, answered=False, present_diagnosis=None)
    withdrawn = mapped("visit.cancelled", booked)
    assert withdrawn.method == "uploadAppointRecord" and withdrawn.records[0]["appointStatus"] == "0"
    answered = payloads.revisit_record(VISIT, PATIENT.patient_id, DOCTOR.user_id, AT, state="cancelled")
    assert mapped("visit.cancelled", answered).records[0]["refuseType"] == "patient_cancelled"
    appointment = mapped("visit.booked", booked).records[0]
    assert appointment["appointDate"] == "2024-06-12 09:10:00"  # the schedule's start
    assert appointment["appointStatus"] == "1"
    booked_key, cancelled_key = (business_key("uploadAppointRecord", r) for r in (appointment, withdrawn.records[0]))
    assert booked_key[0] == cancelled_key[0] and booked_key[1] != cancelled_key[1]  # one appointment, two versions


def test_the_consult_goes_at_acceptance_and_again_at_its_end_and_the_visit_start_on_its_own() -> None:
    record = payloads.revisit_record(VISIT, PATIENT.patient_id, DOCTOR.user_id, AT, state="in_progress",
                                     ended_at=None, outcome=None)
    accepted = VisitAccepted(**msgspec.structs.asdict(record), practice_session_id="ps-1", face_verified_at=AT)
    begun = mapped("visit.accepted", accepted)
    assert begun.method == "uploadConsultIndicators"
    assert (begun.records[0]["consultStatus"], begun.records[0]["endDate"]) == ("1", "")
    ended = mapped("visit.consult_ended", payloads.revisit_record(VISIT, PATIENT.patient_id, DOCTOR.user_id, AT))
    assert (ended.records[0]["consultStatus"], ended.records[0]["bussID"]) == ("2", VISIT) and ended.records[0]["endDate"]
    assert business_key("uploadConsultIndicators", ended.records[0]) != business_key(
        "uploadConsultIndicators", begun.records[0])
    withdrawn = payloads.revisit_record(VISIT, PATIENT.patient_id, DOCTOR.user_id, AT, state="cancelled",
                                        outcome="cancelled")
    assert mapped("visit.consult_ended", withdrawn).records[0]["consultStatus"] == "3"  # ended, not completed
    started = mapped("visit.started", record)
    assert started.method == "uploadMeetClinicIndicators" and started.records[0]["patientCertID"] == PATIENT.id_number


def test_schedules_open_a_doctors_online_business_and_a_suspension_closes_it() -> None:
    schedule = SchedulePublished(schedule_id="sch-1", doctor_user_id=DOCTOR.user_id, department_code="03.03",
                                 starts_at=AT, ends_at=AT, capacity=3, published_at=AT)
    opened = mapped("schedule.published", schedule)
    assert opened.method == "openDoctorBusiness" and opened.records[0]["businessStatus"] == "1"
    assert opened.records[0]["doctorID"] == DOCTOR.staff_id and opened.records[0]["subjectCode"] == "03"
    closed = mapped("staff.business", DoctorBusinessChanged(staff_id=DOCTOR.staff_id, user_id=DOCTOR.user_id,
                                                             kind="doctor", open=False, reason="调查中", at=AT))
    assert closed.records[0]["businessStatus"] == "0" and "调查中" not in str(closed.records)


def test_a_withdrawn_schedule_closes_the_doctors_online_business_for_its_period() -> None:
    later = AT + timedelta(hours=2)
    withdrawn = mapped("schedule.withdrawn", ScheduleWithdrawn(
        schedule_id="sch-1", doctor_user_id=DOCTOR.user_id, department_code="03.03", starts_at=AT, ends_at=later,
        cancelled_visits=2, withdrawn_at=AT - timedelta(hours=1)))
    record = withdrawn.records[0]
    assert withdrawn.method == "openDoctorBusiness" and withdrawn.after == (After("staff", DOCTOR.staff_id),)
    assert (record["businessStatus"], record["doctorCertID"], record["subjectCode"]) == ("0", DOCTOR.id_number, "03")
    assert (record["startTime"], record["endTime"], record["applyDate"]) == (
        "2024-06-12 09:10:00", "2024-06-12 11:10:00", "2024-06-12 08:10:00")
    opened = mapped("schedule.published", SchedulePublished(
        schedule_id="sch-1", doctor_user_id=DOCTOR.user_id, department_code="03.03", starts_at=AT, ends_at=later,
        capacity=3, published_at=AT - timedelta(days=1)))
    # The same doctor's business record, a later version: the platform keeps the closing over the opening.
    assert business_key("openDoctorBusiness", record)[0] == business_key("openDoctorBusiness", opened.records[0])[0]
    assert business_key("openDoctorBusiness", record)[1] != business_key("openDoctorBusiness", opened.records[0])[1]


def test_rational_flag_is_computed_from_the_findings() -> None:
    info = Finding(rule_id="RX-04", severity="info", category="note", message="for the record")
    assert rational([]) == ("1", "") and rational([info]) == ("1", "")
    assert rational([payloads.WARNING, info]) == ("0", "RX-03:unsuitable")
    assert rational([], rejected=True) == ("0", "RX-06:rejected_by_pharmacist")


def test_at_signing_the_prescription_goes_after_its_consult_with_its_findings_and_long_prescription_reason() -> None:
    long_rx = payloads.prescription_submitted(
        RX, VISIT, PATIENT.patient_id, DOCTOR.staff_id, AT, findings=[],
        document_changes={"items": [payloads.prescription_item(days=28)], "long_prescription_reason": "高血压稳定期"})
    outcome = mapped("prescription.submitted", long_rx)
    record = outcome.records[0]
    assert outcome.method == "uploadRecipeIndicators" and outcome.requires == (Requires("uploadConsultIndicators", VISIT),)
    assert (record["rationalFlag"], record["rationalIssues"], record["longRecipeReason"]) == ("1", "", "高血压稳定期")
    assert (record["doctorSign"], record["CAInfo"], record.get("auditDoctorCertID", "")) == (payloads.DOCTOR_JWS, "c0ffee", "")
    warned = mapped("prescription.submitted", SUBMITTED).records[0]
    assert (warned["rationalFlag"], warned["rationalIssues"]) == ("0", "RX-03:unsuitable")


def test_the_recipe_carries_the_frequency_code_the_doctor_chose() -> None:
    weekly = payloads.prescription_submitted(
        RX, VISIT, PATIENT.patient_id, DOCTOR.staff_id, AT,
        document_changes={"items": [payloads.prescription_item(interval_days=7, frequency="qw"),
                                    payloads.prescription_item(times_per_day=2, frequency="biw"),
                                    payloads.prescription_item(frequency="")]})
    orders = mapped("prescription.submitted", weekly).records[0]["orderList"]
    assert [o["frequency"] for o in orders] == ["qw", "biw", "qd"]  # the last signed before codes were recorded


def test_at_signing_the_review_is_an_audit_and_a_verification_record_with_the_pharmacists_identity() -> None:
    audit = mapped("prescription.approved", payloads.reviewed(RX, PHARMACIST.staff_id, AT), LOADED)
    record = audit.records[0]
    assert audit.method == "uploadRecipeAuditIndicators" and audit.requires == (Requires("uploadRecipeIndicators", RX),)
    assert (record["auditDoctorCertID"], record["auditDoctor"], record["auditDoctorSign"], record["auditCAInfo"]) == (
        PHARMACIST.id_number, PHARMACIST.name, payloads.REVIEW_JWS, "beef")
    assert (record["auditStatus"], record["rationalFlag"], record["checkDate"]) == ("1", "0", "2024-06-12 09:10:00")
    rejected = mapped("prescription.rejected", payloads.reviewed(RX, PHARMACIST.staff_id, AT, decision="reject",
                                                                 reasons=["剂量偏低"], findings=[]), LOADED)
    assert (rejected.records[0]["auditStatus"], rejected.records[0]["rationalIssues"]) == (
        "0", "RX-06:rejected_by_pharmacist")
    coded = mapped("prescription.rejected", payloads.reviewed(RX, PHARMACIST.staff_id, AT, decision="reject",
                                                              reasons=["剂量偏低"], findings=[],
                                                              reason_codes=["us_usage_dose", "ex_no_indication"]),
                   LOADED)  # the pharmacist's 处方点评 codes reach the platform (RX-06)
    assert coded.records[0]["rationalIssues"] == "RX-06:rejected_by_pharmacist|RX-06:us_usage_dose|RX-06:ex_no_indication"
    verified = mapped("prescription.verified", payloads.reviewed(RX, PHARMACIST.staff_id, AT), LOADED)
    assert verified.method == "uploadRecipeVerificationIndicators"
    assert (verified.records[0]["verificationStatus"], verified.records[0]["auditDoctorSign"]) == ("1", payloads.REVIEW_JWS)
    warning = mapped("prescription.warnings_overridden", payloads.reviewed(RX, PHARMACIST.staff_id, AT), LOADED)
    assert (warning.method, warning.records[0]["businessType"], warning.records[0]["warningType"]) == (
        "pushMedicalDispute", "3", "overridden_warning")
    assert payloads.WARNING.message not in str(warning.records)  # the message stays in the hospital


def test_when_approved_a_prescription_goes_after_its_consult_with_the_review_inside() -> None:
    outcome = mapped("prescription.approved", payloads.reviewed(RX, PHARMACIST.staff_id, AT), ZHEJIANG)
    record = outcome.records[0]
    assert outcome.requires == (Requires("uploadConsultIndicators", VISIT),)
    assert (record["auditDoctorCertID"], record["icdCode"], record["recipeType"]) == (PHARMACIST.id_number, "I10", "1")
    assert (record["doctorCertID"], record["doctorSign"], record["bussID"]) == (
        DOCTOR.id_number, payloads.DOCTOR_JWS, VISIT)
    assert record["orderList"][0] == {"drcode": "C08CA01-tab-5mg", "drname": "苯磺酸氨氯地平片", "drmodel": "5mg*28片",
                                      "admission": "口服", "frequency": "qd", "dosage": "5", "drunit": "mg",
                                      "dosageTotal": "1", "doseUnit": "28片", "useDays": 7, "otcFlag": "0"}
    assert isinstance(map_event(event("prescription.submitted", SUBMITTED), ZHEJIANG), NotReported)
    rejected = payloads.reviewed(RX, PHARMACIST.staff_id, AT, decision="reject", reasons=["剂量偏低"])
    assert isinstance(map_event(event("prescription.rejected", rejected), ZHEJIANG), NotReported)


def test_an_approval_whose_signed_document_is_unknown_fails_rather_than_guessing() -> None:
    with pytest.raises(MappingFailed, match=r"no prescription\.submitted event"):
        map_event(event("prescription.approved", payloads.reviewed(RX, PHARMACIST.staff_id, AT)),
                  dataclasses.replace(CTX, prescription_at_signing=False))


def test_dispensing_and_each_delivery_step_follow_the_approval_naming_who_dispensed() -> None:
    dispensed = mapped("dispensing.dispensed", DISPENSED, LOADED)
    assert dispensed.requires == (Requires("uploadRecipeAuditIndicators", RX),)
    assert mapped("dispensing.dispensed", DISPENSED, ZHEJIANG).requires == (Requires("uploadRecipeIndicators", RX),)
    assert (dispensed.records[0]["deliveryStatus"], dispensed.records[0]["sendTime"]) == ("dispensed", "")
    delivered = mapped("dispensing.delivery_updated",
                       payloads.delivery_updated(DISPENSING, RX, DISPENSED.dispensed_at, delivered=True), LOADED)
    record = delivered.records[0]
    assert (record["deliveryType"], record["deliveryFirm"], record["deliveryStatus"]) == ("1", "顺丰速运", "delivered")
    assert (record["deliveryDate"], record["sendTime"], record["finishTime"]) == (
        "2024-06-12 10:10:00", "2024-06-12 11:10:00", "2024-06-13 10:10:00")
    assert record["dispensingApothecaryIdCard"] == PHARMACIST.id_number  # from its dispensing.dispensed


def test_a_pick_up_collected_at_the_pharmacy_is_a_hospital_pick_up_finished_when_collected() -> None:
    collected_at = DISPENSED.dispensed_at + timedelta(hours=3)
    steps = [DeliveryStep(status="dispensed", at=DISPENSED.dispensed_at, by_role="pharmacist"),
             DeliveryStep(status="collected", at=collected_at, by_role="pharmacist")]
    record = mapped("dispensing.delivery_updated", payloads.delivery_updated(
        DISPENSING, RX, DISPENSED.dispensed_at, status="collected", updated_at=collected_at, history=steps,
        tracking_number=None), LOADED).records[0]
    assert (record["deliveryType"], record["deliveryStatus"], record["sendTime"]) == ("0", "collected", "")
    assert record["finishTime"] == "2024-06-12 13:10:00"


def test_a_rating_and_a_signed_record_wait_for_the_revisit_record() -> None:
    rated = mapped("rating.submitted", payloads.rating("r-1", VISIT, DOCTOR.user_id, AT))
    assert rated.requires == (Requires("uploadReferralIndicators", VISIT),)
    assert (rated.records[0]["satisfaction"], rated.records[0]["doctorId"]) == (5, DOCTOR.staff_id)
    emr = mapped("emr.signed", payloads.emr_signed("mr-1", VISIT, PATIENT.patient_id, DOCTOR.user_id, AT))
    assert emr.requires == (Requires("uploadReferralIndicators", VISIT),)
    assert (emr.records[0]["patientCertID"], emr.records[0]["mainDiagnoseCode"]) == (PATIENT.id_number, "I10")


def test_the_catalogue_files_every_formulary_drug_and_controlled_ones_as_not_in_use() -> None:
    outcome = mapped("formulary.catalogue", catalogue_payload(load_formulary()))
    by_code = {r["hospDrugCode"]: r for r in outcome.records}
    assert len(by_code) == len(load_formulary())
    assert by_code["C08CA01-tab-5mg"]["hospDrugPacking"] == "5mg*28tablet"
    assert by_code["N02AA01-tab-10mg"]["useFlag"] == "0" and by_code["C08CA01-tab-5mg"]["useFlag"] == "1"


def test_the_daily_check_in_is_an_empty_push_only_on_a_day_without_disputes() -> None:
    quiet = map_event(event(DAILY_DISPUTES, DailyDisputes(day=date(2024, 6, 11), dispute_events=0)), CTX)
    assert isinstance(quiet, Mapped) and quiet.records == [] and quiet.day == date(2024, 6, 11)
    busy = map_event(event(DAILY_DISPUTES, DailyDisputes(day=date(2024, 6, 11), dispute_events=2)), CTX)
    assert isinstance(busy, NotReported)


def test_an_event_type_without_a_contract_is_unmapped_and_a_department_is_not_reported() -> None:
    assert event_view(1, "telemedicine.future_thing", "x", "x-1", 1, AT, {}) == UnmappedEvent("telemedicine.future_thing")
    department = DepartmentSet(code="03", name="内科", approved=True)
    assert isinstance(map_event(event("institution.department", department), CTX), NotReported)


def test_departments_go_by_our_own_non_standard_method_only_where_a_platform_asks_for_them() -> None:
    asked = dataclasses.replace(CTX, department_uploads=True)
    opened = mapped("institution.department", DepartmentSet(code="03.03", name="心血管内科专业", approved=True), asked)
    assert opened.method == "uploadDepartmentInfo"
    assert (opened.records[0]["deptCode"], opened.records[0]["deptStatus"]) == ("03.03", "1")
    withdrawn = mapped("institution.department", DepartmentSet(code="03.03", name="心血管内科专业", approved=False),
                       asked)
    assert withdrawn.records[0]["deptStatus"] == "0"
    assert load_connector_settings({}).department_uploads is False
    assert load_connector_settings({"HOSPITAL_SUPERVISION_DEPARTMENT_UPLOADS": "1"}).department_uploads is True


def test_a_payload_breaking_its_contract_fails_before_any_mapper_naming_the_field() -> None:
    with pytest.raises(MappingFailed, match="missing required field `visit_id`"):
        event("visit.completed", {"patient_id": PATIENT.patient_id, "doctor_user_id": DOCTOR.user_id})
    unfinished = payloads.revisit_record(VISIT, PATIENT.patient_id, DOCTOR.user_id, AT, ended_at=None)
    with pytest.raises(MappingFailed, match="has no ended_at"):
        map_event(event("visit.completed", unfinished), CTX)


def test_a_naive_time_is_refused_rather_than_guessed() -> None:
    payload = {**msgspec.to_builtins(payloads.rating("r-1", VISIT, DOCTOR.user_id, AT)), "rated_at": "2024-06-12T09:10:00"}
    with pytest.raises(MappingFailed, match="timezone"):
        event("rating.submitted", payload)


def test_every_registered_event_type_belongs_to_one_family_module() -> None:
    assert {"staff.record", "face.verification", "prescription.approved", "visit.completed"} <= set(registry())


def test_a_video_visit_paused_by_the_face_watch_is_a_failed_verification_of_that_visit() -> None:
    paused = mapped("video.paused", VideoPaused(visit_id=VISIT, doctor_user_id=DOCTOR.user_id, paused_at=AT,
                                                reason="face_mismatch", for_s=6.0))
    (record,) = paused.records
    assert paused.method == "uploadFaceVerification" and missing_required(paused.method, {"unitID": "U", **record}) == []
    assert (record["verifyResult"], record["bussID"], record["doctorCertID"]) == ("0", VISIT, DOCTOR.id_number)
    assert record["verifyTime"] == "2024-06-12 09:10:00" and After("staff", DOCTOR.staff_id) in paused.after
    resumed = map_event(event("video.resumed", VideoResumed(visit_id=VISIT, doctor_user_id=DOCTOR.user_id,
                                                            resumed_at=AT)), CTX)
    assert isinstance(resumed, NotReported) and "face.verification" in resumed.reason


@pytest.mark.parametrize("payload", [ServiceStopped(reason="设备检修", stopped_at=AT), ServiceResumed(resumed_at=AT)])
def test_a_service_stop_is_skipped_with_the_reason(payload: ServiceStopped | ServiceResumed) -> None:
    event_type = "institution.service_stopped" if isinstance(payload, ServiceStopped) else "institution.service_resumed"
    outcome = map_event(event(event_type, payload), CTX)
    assert isinstance(outcome, NotReported) and "QA-02" in outcome.reason


def test_a_face_lock_out_and_a_security_incident_are_risk_warnings_naming_no_one() -> None:
    locked = mapped("security.alert", SecurityAlert(kind="face_verification_locked", user_id=DOCTOR.user_id,
                                                    failed_attempts=5, locked_until=AT))
    record = locked.records[0]
    assert (locked.method, record["businessType"], record["warningType"]) == ("pushMedicalDispute", "3", "face_lockout")
    assert DOCTOR.name not in str(record) and DOCTOR.staff_id in record["eventDescription"]
    assert locked.after == (After("staff", DOCTOR.staff_id),)
    incident = IncidentChanged(incident_id="i-1", change="opened", kind="data_leak", severity="high", status="open",
                               source="person", leak="suspected", personal_information=True, affected_subjects=12,
                               detected_at=AT, summary="王医生的电脑丢失")
    warned = mapped("security.incident", incident).records[0]
    assert (warned["warningType"], warned["eventStatus"], warned["damageDegree"]) == (
        "security_incident", "open:opened", "high")
    assert "王医生" not in str(warned) and "12" in warned["eventDescription"]  # the narrative stays sealed
