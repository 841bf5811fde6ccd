"""Events of the visits area (REV, REC-01): every visit event carries the whole revisit record as it stands
(hospital/visits/booking/payloads.py `revisit_record`), so a later version supersedes an earlier one; the signed EMR is
its own event (`emr_record`)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from hospital.contracts.base import AwareDatetime, Part, Payload

__all__ = [
    "EVENTS",
    "Diagnosis",
    "EmrSigned",
    "Guardian",
    "InfectiousFlag",
    "PriorDiagnosis",
    "Referral",
    "RevisitRecord",
    "SchedulePublished",
    "VisitAccepted",
]

# Who the patient is, the doctor's ID number: sealed in visit and EMR events alike (REC-03).
PEOPLE_SEALED = ("patient_name", "patient_id_number", "patient_sex", "patient_age", "doctor_id_number")


class Guardian(Part, kw_only=True):
    """Who accompanies a child (REV-05)."""

    name: str
    id_number: str
    relationship: str
    present_confirmed: bool
    mobile: str | None = None


class PriorDiagnosis(Part, kw_only=True):
    """The offline diagnosis the revisit continues (REV-01) and the document the patient uploaded for it."""

    prior_diagnosis_id: str
    icd10_code: str
    name: str
    institution: str
    diagnosed_on: date
    document_type: str
    document_sha256: str


class Diagnosis(Part, kw_only=True):
    icd10_code: str
    name: str


class Referral(Part, kw_only=True):
    """Where a doctor who ended the visit sends the patient offline (REV-04)."""

    institution: str
    department: str
    advice: str
    urgent: bool = False


class InfectiousFlag(Part, kw_only=True):
    """A notifiable infectious disease: of the prior diagnosis (found at booking) or suspected by the doctor."""

    source: str  # prior_diagnosis | doctor
    suspected: bool | None = None
    note: str | None = None
    icd10_code: str | None = None
    disease_zh: str | None = None
    disease_en: str | None = None
    statutory_class: str | None = None
    report_within_hours: int | None = None


class RevisitRecord(Payload, kw_only=True):
    """`visit.booked`, `visit.cancelled`, `visit.completed`, `visit.terminated` (subject: the visit)."""

    SEALED: ClassVar[tuple[str, ...]] = (*PEOPLE_SEALED, "guardian", "prior_diagnosis", "present_diagnosis",
                                         "main_diagnosis_code", "disease_history", "referral", "infectious",
                                         "infectious_flag", "termination_reason")

    visit_id: str
    state: str
    mode: str  # video | text …
    department_code: str
    department_name: str
    doctor_user_id: str
    doctor_name: str | None  # None: the doctor has no staff record (never in practice)
    doctor_id_number: str | None
    patient_id: str
    patient_name: str
    patient_id_number: str
    patient_sex: str  # male | female
    patient_age: int  # on the day of the visit
    scheduled_start: AwareDatetime | None = None
    scheduled_end: AwareDatetime | None = None
    guardian: Guardian | None = None
    revisit_declared: bool
    prior_diagnosis: PriorDiagnosis
    present_diagnosis: Diagnosis | None = None  # from the signed EMR
    main_diagnosis_code: str
    disease_history: str | None = None
    queue_number: int | None = None
    booked_at: AwareDatetime
    accepted_at: AwareDatetime | None = None
    revisit_confirmed_at: AwareDatetime | None = None
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    answered: bool
    outcome: str | None = None  # the final state, once final
    termination_reason: str | None = None
    first_visit_discovered: bool = False
    referred_offline: bool = False
    referral: Referral | None = None
    infectious_flag: bool = False
    infectious: InfectiousFlag | None = None
    medical_record_id: str | None = None  # the signed EMR


class VisitAccepted(RevisitRecord, kw_only=True):
    """`visit.accepted`: the revisit record and the face verification the doctor accepted it on (FACE-02)."""

    practice_session_id: str
    face_verified_at: AwareDatetime | None


class EmrSigned(Payload, kw_only=True):
    """`emr.signed` (subject: the medical record): the signed outpatient record (REC-01) and its JWS (RX-05)."""

    SEALED: ClassVar[tuple[str, ...]] = (
        *PEOPLE_SEALED, "visited_at", "chief_complaint", "present_illness", "past_history", "allergy_history",
        "examination_findings", "diagnosis_icd10", "diagnosis_name", "treatment_advice",
        "signature")  # a JWS carries its payload readable: sealed with the record it signs

    medical_record_id: str
    visit_id: str
    patient_id: str
    department_code: str
    department_name: str
    doctor_name: str | None
    doctor_id_number: str | None
    patient_name: str
    patient_id_number: str
    patient_sex: str  # male | female
    patient_age: int
    visited_at: AwareDatetime | None = None
    chief_complaint: str
    present_illness: str
    past_history: str = ""
    allergy_history: str
    examination_findings: str = ""
    diagnosis_icd10: str
    diagnosis_name: str
    treatment_advice: str
    signed_at: AwareDatetime
    signed_by_user_id: str
    signature: str  # the doctor's compact JWS over the record
    record_version: int


class SchedulePublished(Payload, kw_only=True):
    """`schedule.published` (subject: the schedule): a doctor opens a period of online service (REV-06); the
    platform hears it as the doctor opening online business (openDoctorBusiness)."""

    schedule_id: str
    doctor_user_id: str
    department_code: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int
    modes: list[str] = []
    published_at: AwareDatetime


class ScheduleWithdrawn(Payload, kw_only=True):
    """`schedule.withdrawn` (subject: the schedule): the doctor's period of online service is withdrawn (停诊, REV-06);
    the platform hears it as the doctor's online business closed for that period (openDoctorBusiness, status 0).
    The reason stays in the audit trail (free text that may name a person)."""

    schedule_id: str
    doctor_user_id: str
    department_code: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    cancelled_visits: int
    withdrawn_at: AwareDatetime


EVENTS: dict[str, type[Payload]] = {
    "visit.booked": RevisitRecord,
    "visit.accepted": VisitAccepted,
    "visit.started": RevisitRecord,  # the consultation begins (uploadMeetClinicIndicators)
    "visit.consult_ended": RevisitRecord,  # beside visit.completed / visit.terminated: the consult's end
    "schedule.published": SchedulePublished,
    "schedule.withdrawn": ScheduleWithdrawn,
    "visit.cancelled": RevisitRecord,
    "visit.completed": RevisitRecord,
    "visit.terminated": RevisitRecord,
    "emr.signed": EmrSigned,
}
