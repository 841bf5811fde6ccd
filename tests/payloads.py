"""Event payloads as the areas build them (hospital/contracts), for tests that emit or map events without
running the journey that produces them: the connector's delivery tests, the scripted day's flagged records, the
mappers' unit tests. Each builder gives a complete Payload; `**changes` replaces fields (msgspec.structs.replace).

The real day over HTTP (tests/integration/connector/real_day.py) is what proves the areas emit these shapes:
`emit` refuses any other.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from hospital.contracts.prescriptions import (
    DeliveryStep,
    DeliveryUpdated,
    Dispensed,
    DocumentDiagnosis,
    DocumentDoctor,
    DocumentFaceVerification,
    DocumentItem,
    DocumentPatient,
    DocumentPriorDiagnosis,
    DocumentVisit,
    Finding,
    PrescriptionDocument,
    PrescriptionReviewed,
    PrescriptionSubmitted,
)
from hospital.contracts.quality import RatingSubmitted
from hospital.contracts.staff import Credential, StaffRecord
from hospital.contracts.visits import Diagnosis, EmrSigned, PriorDiagnosis, RevisitRecord

__all__ = ["DOCTOR_JWS", "REVIEW_JWS", "SHA", "WARNING", "delivery_updated", "dispensed", "document", "emr_signed",
           "prescription_item", "prescription_submitted", "rating", "reviewed", "revisit_record", "staff_record"]

SHA = "ab" * 32
DOCTOR_JWS, REVIEW_JWS = "eyJhbGciOiJFUzI1NiJ9.ZG9jdG9y.c2ln", "eyJhbGciOiJFUzI1NiJ9.cmV2aWV3.c2ln"
WARNING = Finding(rule_id="RX-03", severity="warn", category="unsuitable", message="already supplied")


def _replace(payload: Any, changes: dict[str, Any]) -> Any:
    return msgspec.structs.replace(payload, **changes) if changes else payload


def staff_record(staff_id: str, *, kind: str = "doctor", name: str = "王医生", id_number: str = "110105198001011238",
                 title: str = "主任医师", **changes: Any) -> StaffRecord:
    """A clinician's record as hospital/staff/service.py files it (STAFF-04)."""
    credentials = ([Credential(kind="physician_qualification", number="199831110000001"),
                    Credential(kind="physician_practice", number="110310000000001", valid_until=date(2029, 1, 1))]
                   if kind == "doctor" else [Credential(kind="pharmacist_qualification", number="YS2010310001")])
    return _replace(StaffRecord(
        staff_id=staff_id, kind=kind, name=name, id_number=id_number, sex="male", birth_date=date(1980, 1, 1),
        title=title, clinical_years=15, practice_category="临床", practice_scope="内科专业",
        practice_institution="示范市第一人民医院", departments=["03.03"] if kind == "doctor" else [],
        credentials=credentials, photo_sha256=SHA), changes)


def revisit_record(visit_id: str, patient_id: str, doctor_user_id: str, at: datetime, **changes: Any) -> RevisitRecord:
    """A revisit record as hospital/visits/booking/payloads.py writes it, at the end of a visit that started at `at`
    (completed, the EMR signed, the prior diagnosis I10 made offline three months before)."""
    return _replace(RevisitRecord(
        visit_id=visit_id, state="completed", mode="video", department_code="03.03", department_name="心血管内科专业",
        doctor_user_id=doctor_user_id, doctor_name="王医生", doctor_id_number="110105198001011238",
        patient_id=patient_id, patient_name="张三", patient_id_number="11010519491231002X", patient_sex="female",
        patient_age=74, scheduled_start=at, scheduled_end=at + timedelta(hours=2), guardian=None,
        revisit_declared=True,
        prior_diagnosis=PriorDiagnosis(prior_diagnosis_id=str(uuid.uuid5(uuid.NAMESPACE_URL, visit_id)),
                                       icd10_code="I10", name="原发性高血压", institution="示范市第一人民医院",
                                       diagnosed_on=(at - timedelta(days=90)).date(), document_type="outpatient_record",
                                       document_sha256=SHA),
        present_diagnosis=Diagnosis(icd10_code="I10", name="原发性高血压"), main_diagnosis_code="I10",
        disease_history="高血压3年，规律服药", queue_number=1, booked_at=at - timedelta(days=1),
        accepted_at=at - timedelta(minutes=1), revisit_confirmed_at=at - timedelta(minutes=1), started_at=at,
        ended_at=at + timedelta(minutes=15), answered=True, outcome="completed",
        medical_record_id=str(uuid.uuid5(uuid.NAMESPACE_OID, visit_id))), changes)


def emr_signed(record_id: str, visit_id: str, patient_id: str, doctor_user_id: str, at: datetime,
               **changes: Any) -> EmrSigned:
    """The signed outpatient record as hospital/visits/encounter/payloads.py `emr_record` writes it."""
    return _replace(EmrSigned(
        medical_record_id=record_id, visit_id=visit_id, patient_id=patient_id, department_code="03.03",
        department_name="心血管内科专业", doctor_name="王医生", doctor_id_number="110105198001011238",
        patient_name="张三", patient_id_number="11010519491231002X", patient_sex="female", patient_age=74,
        visited_at=at, chief_complaint="血压控制复诊", present_illness="规律服药，血压平稳", past_history="高血压3年",
        allergy_history="无", diagnosis_icd10="I10", diagnosis_name="原发性高血压", treatment_advice="继续服药",
        signed_at=at, signed_by_user_id=doctor_user_id, signature=DOCTOR_JWS, record_version=2), changes)


def prescription_item(drug_code: str = "C08CA01-tab-5mg", *, days: int = 7, **changes: Any) -> DocumentItem:
    return _replace(DocumentItem(
        drug_code=drug_code, name_zh="苯磺酸氨氯地平片", generic_name="amlodipine", strength="5 mg",
        dose_per_time="5", dose_unit="mg", times_per_day=1, interval_days=1, days_supply=days, quantity_packs=1,
        pack="28 片", unit_price_cny="4.90", amount_cny="4.90", usage="口服，每日早晨"), changes)


def document(visit_id: str, patient_id: str, doctor_staff_id: str, at: datetime, *, icd10: str = "I10",
             items: list[DocumentItem] | None = None, **changes: Any) -> PrescriptionDocument:
    """The document the doctor signs (hospital/prescriptions/documents.py), as canonical JSON text."""
    return _replace(PrescriptionDocument(
        prescription_number="RX-1", revision=1, supersedes=None, issued_at=at.isoformat(),
        valid_until=at.date().isoformat(), validity_days=1, hospital="示范互联网医院",
        visit=DocumentVisit(visit_id=visit_id, department_code="03.03", mode="video"),
        patient=DocumentPatient(patient_id=patient_id, name="张三", sex="female", age=74),
        prior_diagnosis=DocumentPriorDiagnosis(icd10="I10", name="原发性高血压", institution="示范市第一人民医院",
                                               diagnosed_on=(at - timedelta(days=90)).date().isoformat()),
        diagnoses=[DocumentDiagnosis(icd10=icd10, name="原发性高血压" if icd10 == "I10" else icd10)],
        items=items or [prescription_item()], total_cny="4.90", guardian_present=False,
        doctor=DocumentDoctor(staff_id=doctor_staff_id, name="王医生", title="主任医师", certificate_serial="c0ffee"),
        face_verification=DocumentFaceVerification(practice_session_id=str(uuid.uuid4()), verified_at=at.isoformat())),
        changes)


def prescription_submitted(prescription_id: str, visit_id: str, patient_id: str, doctor_staff_id: str, at: datetime,
                           *, document_changes: dict[str, Any] | None = None, **changes: Any) -> PrescriptionSubmitted:
    """`prescription.submitted` as hospital/prescriptions/writing/service/prescribing.py emits it (the document inside)."""
    signed = document(visit_id, patient_id, doctor_staff_id, at, **(document_changes or {}))
    return _replace(PrescriptionSubmitted(
        prescription_id=prescription_id, prescription_number=signed.prescription_number,
        base_number=signed.prescription_number, revision=1, visit_id=visit_id, department_code="03.03",
        doctor_staff_id=doctor_staff_id, doctor_certificate_serial="c0ffee", issued_at=at,
        valid_until=date.fromisoformat(signed.valid_until), status="pending_review", payload_sha256=SHA,
        prescription=signed, doctor_jws=DOCTOR_JWS, findings=[WARNING]), changes)


def reviewed(prescription_id: str, pharmacist_staff_id: str, at: datetime, *, decision: str = "approve",
             reasons: list[str] | None = None, **changes: Any) -> PrescriptionReviewed:
    """`prescription.approved` / `.rejected` as hospital/prescriptions/review/service.py emits it."""
    return _replace(PrescriptionReviewed(
        prescription_id=prescription_id, prescription_number="RX-1", review_id=str(uuid.uuid4()),
        decision="approve" if decision == "approve" else "reject", reasons=reasons or [],
        pharmacist_staff_id=pharmacist_staff_id, pharmacist_certificate_serial="beef", reviewed_at=at,
        payload_sha256=SHA, review_jws=REVIEW_JWS, findings=[WARNING],
        status="approved" if decision == "approve" else "rejected"), changes)


def dispensed(dispensing_id: str, prescription_id: str, pharmacist_user_id: str, at: datetime,
              **changes: Any) -> Dispensed:
    return _replace(Dispensed(
        dispensing_id=dispensing_id, prescription_id=prescription_id, prescription_number="RX-1", status="dispensed",
        dispensed_at=at, pharmacist_user_id=pharmacist_user_id, courier_kind="third_party", courier_name="顺丰速运"),
        changes)


def delivery_updated(dispensing_id: str, prescription_id: str, dispensed_at: datetime, *, delivered: bool = False,
                     **changes: Any) -> DeliveryUpdated:
    """Shipped an hour after dispensing (and delivered a day later when `delivered`)."""
    steps = [DeliveryStep(status="dispensed", at=dispensed_at, by_role="pharmacist"),
             DeliveryStep(status="shipped", at=dispensed_at + timedelta(hours=1), by_role="pharmacist",
                          tracking_number="SF1")]
    if delivered:
        steps.append(DeliveryStep(status="delivered", at=dispensed_at + timedelta(days=1), by_role="pharmacist",
                                  note="本人签收"))
    return _replace(DeliveryUpdated(
        dispensing_id=dispensing_id, prescription_id=prescription_id, prescription_number="RX-1",
        status=steps[-1].status, updated_at=steps[-1].at, courier_kind="third_party", courier_name="顺丰速运",
        tracking_number="SF1", history=steps), changes)


def rating(rating_id: str, visit_id: str, doctor_user_id: str, at: datetime, **changes: Any) -> RatingSubmitted:
    return _replace(RatingSubmitted(rating_id=rating_id, visit_id=visit_id, doctor_user_id=doctor_user_id,
                                    department_code="03.03", score=5, comment="医生很耐心", rated_at=at), changes)
