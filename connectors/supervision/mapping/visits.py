"""Visit events (REV, REC-01), each when it happens (SUP-02): the appointment and its status changes, the consult
at acceptance and at its end, the visit started, the revisit record when the visit ends, the signed EMR, and the
doctors' online business (schedules published; suspension closes it, reinstatement opens it again).

Every visit event carries the whole revisit record as it stands (hospital/contracts/visits.py `RevisitRecord`).
The revisit record needs its end (endDate is required), so it goes when the visit completes or is terminated;
the consult (uploadConsultIndicators) goes at acceptance, and a prescription of the visit waits for it
(`Requires`). A visit withdrawn before it was answered is no revisit: its appointment goes again as cancelled.
"""

from __future__ import annotations

from typing import Any

from connectors.supervision.mapping.base import (
    After,
    EventView,
    MapContext,
    Mapped,
    Mapper,
    MappingFailed,
    NotReported,
    Requires,
)
from connectors.supervision.mapping.codes import flag, subject_code
from hospital.contracts.staff import DoctorBusinessChanged
from hospital.contracts.visits import EmrSigned, RevisitRecord, SchedulePublished, ScheduleWithdrawn, VisitAccepted

__all__ = ["APPOINTMENT_METHOD", "BUSINESS_METHOD", "CONSULT_METHOD", "EMR_METHOD", "MAPPERS", "MEET_METHOD",
           "REVISIT_METHOD"]

APPOINTMENT_METHOD = "uploadAppointRecord"
CONSULT_METHOD = "uploadConsultIndicators"
MEET_METHOD = "uploadMeetClinicIndicators"
BUSINESS_METHOD = "openDoctorBusiness"
ONLINE_REVISIT = "1"  # businessType of openDoctorBusiness: the hospital's one online business
BOOKED, CANCELLED = "1", "0"  # appointStatus
IN_PROGRESS, COMPLETED, ENDED = "1", "2", "3"  # consultStatus
REVISIT_METHOD = "uploadReferralIndicators"
EMR_METHOD = "uploadElectMedicalRecord"
CANCELLED_BY_PATIENT = "patient_cancelled"
REVISIT = "1"  # returnVisitType: a follow-up (复诊) of a diagnosis made offline (REV-01)


def _people(p: RevisitRecord, ctx: MapContext) -> dict[str, Any]:
    doctor = ctx.staff(user_id=p.doctor_user_id)
    patient = ctx.patient(patient_id=p.patient_id)
    code = subject_code(p.department_code)
    return {"doctorCertID": doctor.id_number, "doctorName": doctor.name, "patientCertID": patient.id_number,
            "patientName": patient.name, "subjectCode": code, "subjectName": ctx.department_name(code)}


def _appointment(event: EventView[RevisitRecord], ctx: MapContext, status: str) -> Mapped:
    p = event.data
    record = {**ctx.organ(), "bussID": p.visit_id, **_people(p, ctx),
              "appointDate": ctx.local_time(p.scheduled_start or p.booked_at),
              "appointStatus": status, "updateTime": ctx.local_time(event.created_at)}
    return Mapped(APPOINTMENT_METHOD, [record])


def booked(event: EventView[RevisitRecord], ctx: MapContext) -> Mapped:
    return _appointment(event, ctx, BOOKED)


def _consult(event: EventView[Any], ctx: MapContext, status: str) -> Mapped:
    p = event.data
    record = {**ctx.organ(), "bussID": p.visit_id, **_people(p, ctx),
              "mainDiagnoseCode": p.prior_diagnosis.icd10_code,
              "startDate": ctx.local_time(p.accepted_at or p.booked_at),
              "endDate": ctx.local_time(p.ended_at), "consultStatus": status,
              "updateTime": ctx.local_time(p.ended_at or p.accepted_at or event.created_at)}
    return Mapped(CONSULT_METHOD, [record])


def accepted(event: EventView[VisitAccepted], ctx: MapContext) -> Mapped:
    """接诊: the consult begins; prescriptions of the visit wait for this record (RX-01)."""
    return _consult(event, ctx, IN_PROGRESS)


def consult_ended(event: EventView[RevisitRecord], ctx: MapContext) -> Mapped:
    return _consult(event, ctx, COMPLETED if event.data.outcome == "completed" else ENDED)


def started(event: EventView[RevisitRecord], ctx: MapContext) -> Mapped:
    p = event.data
    people = _people(p, ctx)
    record = {**ctx.organ(), "bussID": p.visit_id, "doctorCertID": people["doctorCertID"],
              "patientCertID": people["patientCertID"], "subjectCode": people["subjectCode"],
              "mainDiagnoseCode": p.prior_diagnosis.icd10_code,
              "startDate": ctx.local_time(p.started_at or event.created_at), "endDate": "",
              "updateTime": ctx.local_time(p.started_at or event.created_at)}
    return Mapped(MEET_METHOD, [record])


def cancelled(event: EventView[RevisitRecord], ctx: MapContext) -> Mapped:
    if event.data.accepted_at:
        # Answered, then withdrawn: a revisit record ends it, or what the doctor did meanwhile (an EMR, a
        # prescription) would wait for it for ever.
        return ended(event, ctx)
    return _appointment(event, ctx, CANCELLED)  # withdrawn before it was answered: no revisit took place


def schedule_published(event: EventView[SchedulePublished], ctx: MapContext) -> Mapped:
    """A doctor publishes a period of online service: their online business is open (REV-06)."""
    p = event.data
    doctor = ctx.staff(user_id=p.doctor_user_id)
    record = {**ctx.organ(), "doctorID": doctor.staff_id, "doctorName": doctor.name, "doctorCertID": doctor.id_number,
              "businessType": ONLINE_REVISIT, "businessStatus": "1", "applyDate": ctx.local_time(p.published_at),
              "subjectCode": subject_code(p.department_code), "startTime": ctx.local_time(p.starts_at),
              "endTime": ctx.local_time(p.ends_at)}
    return Mapped(BUSINESS_METHOD, [record], after=(After("staff", doctor.staff_id),))


def schedule_withdrawn(event: EventView[ScheduleWithdrawn], ctx: MapContext) -> Mapped:
    """The period is withdrawn (停诊, REV-06): the doctor's online business closed for that period (status 0 with the
    period; a suspension, without a period, closes all of it)."""
    p = event.data
    doctor = ctx.staff(user_id=p.doctor_user_id)
    record = {**ctx.organ(), "doctorID": doctor.staff_id, "doctorName": doctor.name, "doctorCertID": doctor.id_number,
              "businessType": ONLINE_REVISIT, "businessStatus": "0", "applyDate": ctx.local_time(p.withdrawn_at),
              "subjectCode": subject_code(p.department_code), "startTime": ctx.local_time(p.starts_at),
              "endTime": ctx.local_time(p.ends_at)}
    return Mapped(BUSINESS_METHOD, [record], after=(After("staff", doctor.staff_id),))


def business_changed(event: EventView[DoctorBusinessChanged], ctx: MapContext) -> Mapped | NotReported:
    """Suspension closes a clinician's online business; reinstatement opens it again (STAFF-03)."""
    p = event.data
    clinician = ctx.staff(staff_id=p.staff_id)
    record = {**ctx.organ(), "doctorID": clinician.staff_id, "doctorName": clinician.name,
              "doctorCertID": clinician.id_number, "businessType": ONLINE_REVISIT,
              "businessStatus": flag(p.open), "applyDate": ctx.local_time(p.at)}
    return Mapped(BUSINESS_METHOD, [record])


def ended(event: EventView[RevisitRecord], ctx: MapContext) -> Mapped:
    p = event.data
    if p.ended_at is None:
        raise MappingFailed(f"{event.event_type} of visit {p.visit_id} has no ended_at")
    started = p.started_at or p.accepted_at or p.booked_at
    guardian = p.guardian
    completed = event.event_type == "visit.completed"
    record = {
        **ctx.organ(), "bussID": p.visit_id, **_people(p, ctx),
        "age": p.patient_age,
        "guardianCertID": guardian.id_number if guardian else "", "guardianName": guardian.name if guardian else "",
        "guardianMobile": (guardian.mobile or "") if guardian else "",
        "returnVisitType": REVISIT,
        "diseasesHistory": p.disease_history or "",
        "originalDiagnosis": p.prior_diagnosis.name,
        "thisDiagnosis": p.present_diagnosis.name if p.present_diagnosis else p.prior_diagnosis.name,
        "mainDiagnoseCode": p.main_diagnosis_code,
        # The patient declared a revisit (REV-01) and the doctor confirmed it on accepting (REV-04).
        "referralFlag": flag(p.revisit_declared),
        "firstDiagnosis": "",  # the first diagnosis's document is filed with the hospital, not uploaded
        "applyDate": ctx.local_time(p.booked_at),
        "startDate": ctx.local_time(started),
        "endDate": ctx.local_time(p.ended_at),
        "answerFlag": flag(p.answered),
        "refuseType": "" if completed else (p.termination_reason or CANCELLED_BY_PATIENT),
        "updateTime": ctx.local_time(event.created_at),
    }
    return Mapped(REVISIT_METHOD, [record])


def emr_signed(event: EventView[EmrSigned], ctx: MapContext) -> Mapped:
    p = event.data
    # The EMR names its people by ID number (sealed in the outbox); a signer with no staff record on the visit
    # (doctor_id_number None) is looked up by user.
    doctor_cert = p.doctor_id_number or ctx.staff(user_id=p.signed_by_user_id).id_number
    record = {
        **ctx.organ(), "bussID": p.visit_id,
        "doctorCertID": doctor_cert, "patientCertID": p.patient_id_number,
        "mainDieaseDescribe": p.chief_complaint,
        "currentMedical": p.present_illness,
        "histroyMedical": p.past_history,
        "mainDiagnoseCode": p.diagnosis_icd10,
        "thisDiagnosis": p.diagnosis_name,
        "updateTime": ctx.local_time(p.signed_at),
    }
    # The EMR is signed during the visit; the platform files it under the revisit record, which goes at its end.
    return Mapped(EMR_METHOD, [record], requires=(Requires(REVISIT_METHOD, p.visit_id),))


MAPPERS: dict[str, Mapper] = {
    "visit.booked": booked,
    "visit.accepted": accepted,
    "visit.started": started,
    "visit.consult_ended": consult_ended,
    "visit.cancelled": cancelled,
    "visit.completed": ended,
    "visit.terminated": ended,
    "emr.signed": emr_signed,
    "schedule.published": schedule_published,
    "schedule.withdrawn": schedule_withdrawn,
    "staff.business": business_changed,
}
