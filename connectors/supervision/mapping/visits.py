"""Visit events (REV, REC-01): the appointment, the revisit record when the visit ends, the signed EMR.

`visit.accepted` is not reported on its own: the revisit record needs its end (endDate is required), so it
goes when the visit completes or is terminated, and prescriptions of the visit wait for it (`Requires`).
"""

from __future__ import annotations

from typing import Any

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper, NotReported, Requires
from connectors.supervision.mapping.codes import age_on, subject_code

__all__ = ["APPOINTMENT_METHOD", "EMR_METHOD", "MAPPERS", "REVISIT_METHOD"]

APPOINTMENT_METHOD = "uploadAppointRecord"
REVISIT_METHOD = "uploadReferralIndicators"
EMR_METHOD = "uploadElectMedicalRecord"
REVISIT = "1"  # returnVisitType: a follow-up (复诊) of a diagnosis made offline (REV-01)


def _people(event: EventView, ctx: MapContext) -> dict[str, Any]:
    doctor = ctx.staff(user_id=event.require("doctor_user_id"))
    patient = ctx.patient(patient_id=event.require("patient_id"))
    code = subject_code(event.get("department_code"))
    return {"doctorCertID": doctor.id_number, "doctorName": doctor.name, "patientCertID": patient.id_number,
            "patientName": patient.name, "subjectCode": code, "subjectName": ctx.department_name(code)}


def booked(event: EventView, ctx: MapContext) -> Mapped:
    people = _people(event, ctx)
    record = {**ctx.organ(), "bussID": str(event.require("visit_id")), **people,
              "appointDate": ctx.local_time(event.get("starts_at") or event.require("booked_at"))}
    return Mapped(APPOINTMENT_METHOD, [record])


def accepted(event: EventView, ctx: MapContext) -> NotReported:
    return NotReported("a revisit is reported when it ends (uploadReferralIndicators needs endDate)")


def ended(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    people = _people(event, ctx)
    patient = ctx.patient(patient_id=p["patient_id"])
    started = p.get("started_at") or p.get("accepted_at") or p.get("requested_at")
    ended_at = event.require("ended_at")
    prior = dict(event.require("prior_diagnosis"))
    diagnosis = dict(p.get("diagnosis") or {})
    guardian = dict(p.get("guardian") or {})
    completed = event.event_type == "visit.completed"
    age = age_on(patient.birth_date, ctx.moment(started) or event.created_at)
    record = {
        **ctx.organ(), "bussID": str(event.require("visit_id")), **people,
        "age": age,
        "guardianCertID": guardian.get("id_number", ""), "guardianName": guardian.get("name", ""),
        "guardianMobile": guardian.get("phone", ""),
        "returnVisitType": REVISIT,
        "diseasesHistory": p.get("history", ""),
        "originalDiagnosis": prior.get("name", ""),
        "thisDiagnosis": diagnosis.get("name") or prior.get("name", ""),
        "mainDiagnoseCode": diagnosis.get("icd10_code") or prior.get("icd10_code", ""),
        "referralFlag": "1" if p.get("revisit_confirmed", True) else "0",
        "firstDiagnosis": ",".join(str(i) for i in p.get("first_diagnosis_files") or []),
        "applyDate": ctx.local_time(p.get("requested_at") or started),
        "startDate": ctx.local_time(started),
        "endDate": ctx.local_time(ended_at),
        "answerFlag": "1" if completed else "0",
        "refuseType": "" if completed else str(p.get("termination_reason") or ""),
        "updateTime": ctx.local_time(event.created_at),
    }
    return Mapped(REVISIT_METHOD, [record])


def emr_signed(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    people = _people(event, ctx)
    diagnosis = dict(p.get("diagnosis") or {})
    record = {
        **ctx.organ(), "bussID": str(event.require("visit_id")),
        "doctorCertID": people["doctorCertID"], "patientCertID": people["patientCertID"],
        "mainDieaseDescribe": p.get("chief_complaint", ""),
        "currentMedical": p.get("present_illness", ""),
        "histroyMedical": p.get("past_history", ""),
        "mainDiagnoseCode": diagnosis.get("icd10_code", ""),
        "thisDiagnosis": diagnosis.get("name", ""),
        "updateTime": ctx.local_time(p.get("signed_at") or event.created_at),
    }
    # The EMR is signed during the visit; the platform files it under the revisit record, which goes at its end.
    return Mapped(EMR_METHOD, [record], requires=(Requires(REVISIT_METHOD, str(p["visit_id"])),))


MAPPERS: dict[str, Mapper] = {
    "visit.booked": booked,
    "visit.accepted": accepted,
    "visit.completed": ended,
    "visit.terminated": ended,
    "emr.signed": emr_signed,
}
