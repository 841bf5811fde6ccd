"""What the supervision platform is told about a visit and its record (SUP-02), in our own words.

Every visit event carries the whole revisit record as it stands (the platform's "Revisit" fields: business
id, doctor and patient ID numbers, age, guardian, prior and present diagnosis, main code, referral, dates,
answer and refusal), so the connector can map any of them and a later version supersedes an earlier one. It is
built as its contract (hospital/contracts/visits.py `RevisitRecord`), which also names what the outbox seals.

The record's present diagnosis comes from the visit's signed outpatient record, which is the encounter's
(`visits.encounter.payloads.current_revisit_record` reads it and calls `revisit_record` here). Booking may
not import the encounter, so a booking use case that reports a visit the doctor may already have recorded (a
cancellation after acceptance) is handed that reader by its caller (`RevisitRecordOf`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.visits import Diagnosis, Guardian, InfectiousFlag, PriorDiagnosis, Referral, RevisitRecord
from hospital.patients.models import Patient
from hospital.patients.rules import age_on
from hospital.staff.service import staff_for_user
from hospital.visits.booking.models import Schedule, Visit, visit_clinical, visit_guardian
from hospital.visits.booking.queries import department_name
from hospital.visits.booking.rules import TERMINAL_STATES, VisitState
from hospital.visits.intake.models import PriorDiagnosisRecord, open_prior

__all__ = ["People", "RevisitRecordOf", "SignedRecord", "people_of", "revisit_record"]


@dataclass(frozen=True, slots=True)
class SignedRecord:
    """What the revisit record takes from the visit's signed outpatient record."""

    medical_record_id: uuid.UUID
    diagnosis_icd10: str
    diagnosis_name: str
    present_illness: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class People:
    """Who a visit's records name: the doctor and the patient (their ID numbers opened), and when it is booked."""

    doctor_user_id: str
    doctor_name: str | None  # None: the doctor has no staff record (never in practice)
    doctor_id_number: str | None
    patient_id: str
    patient_name: str
    patient_id_number: str
    patient_sex: str
    patient_age: int  # on the day of the visit
    scheduled_start: datetime
    scheduled_end: datetime


# The revisit record of a visit as it stands now, signed record included (the encounter's reader).
RevisitRecordOf = Callable[[AsyncSession, HospitalContext, Visit], Awaitable[RevisitRecord]]


def _guardian(ctx: HospitalContext, visit: Visit) -> Guardian | None:
    details = visit_guardian(ctx.cipher, visit)
    if details is None:
        return None
    return Guardian(name=details["name"], id_number=details["id_number"], relationship=details["relationship"],
                    mobile=details.get("mobile") or None, present_confirmed=details["present_confirmed"])


async def people_of(session: AsyncSession, ctx: HospitalContext, visit: Visit) -> People:
    patient = await session.get(Patient, visit.patient_id)
    doctor = await staff_for_user(session, visit.doctor_user_id)
    schedule = await session.get(Schedule, visit.schedule_id)
    assert patient is not None and schedule is not None
    return People(
        doctor_user_id=str(visit.doctor_user_id),
        doctor_name=doctor.real_name if doctor else None,
        doctor_id_number=ctx.cipher.open_text(doctor.id_number_sealed, context="staff.id_number") if doctor else None,
        patient_id=str(patient.id),
        patient_name=patient.real_name,
        patient_id_number=ctx.cipher.open_text(patient.id_number_sealed, context="patient.id_number"),
        patient_sex=patient.sex,
        patient_age=age_on(patient.birth_date, ctx.local_date(schedule.starts_at)),
        scheduled_start=schedule.starts_at,
        scheduled_end=schedule.ends_at,
    )


async def revisit_record(session: AsyncSession, ctx: HospitalContext, visit: Visit,
                         signed: SignedRecord | None) -> RevisitRecord:
    """The revisit record of `visit` now; the present diagnosis comes from its signed EMR (`signed`), if any."""
    record = await session.get(PriorDiagnosisRecord, visit.prior_diagnosis_id)
    assert record is not None
    prior, clinical = open_prior(ctx.cipher, record), visit_clinical(ctx.cipher, visit)
    present = Diagnosis(icd10_code=signed.diagnosis_icd10, name=signed.diagnosis_name) if signed else None
    people = await people_of(session, ctx, visit)
    return RevisitRecord(
        visit_id=str(visit.id),
        state=visit.state,
        mode=visit.mode,
        department_code=visit.department_code,
        department_name=await department_name(session, ctx, visit.department_code),
        doctor_user_id=people.doctor_user_id,
        doctor_name=people.doctor_name,
        doctor_id_number=people.doctor_id_number,
        patient_id=people.patient_id,
        patient_name=people.patient_name,
        patient_id_number=people.patient_id_number,
        patient_sex=people.patient_sex,
        patient_age=people.patient_age,
        scheduled_start=people.scheduled_start,
        scheduled_end=people.scheduled_end,
        guardian=_guardian(ctx, visit),
        revisit_declared=True,  # every visit here is booked against a prior diagnosis (REV-01)
        prior_diagnosis=PriorDiagnosis(
            prior_diagnosis_id=str(prior.id), icd10_code=prior.icd10_code, name=prior.diagnosis_name,
            institution=prior.institution_name, diagnosed_on=prior.diagnosed_on,
            document_type=prior.document_type, document_sha256=prior.document_sha256),
        present_diagnosis=present,
        main_diagnosis_code=present.icd10_code if present else prior.icd10_code,
        disease_history=signed.present_illness if signed else None,
        queue_number=visit.queue_number,
        booked_at=visit.created_at,
        accepted_at=visit.accepted_at,
        revisit_confirmed_at=visit.revisit_confirmed_at,
        started_at=visit.started_at,
        ended_at=visit.ended_at,
        answered=visit.accepted_at is not None,
        outcome=visit.state if VisitState(visit.state) in TERMINAL_STATES else None,
        termination_reason=clinical["termination_reason"],
        first_visit_discovered=clinical["termination_reason"] == "first_visit_discovered",
        referred_offline=clinical["referral"] is not None,
        referral=msgspec.convert(clinical["referral"], Referral) if clinical["referral"] is not None else None,
        infectious_flag=clinical["infectious_flag"] is not None,
        infectious=(msgspec.convert(clinical["infectious_flag"], InfectiousFlag)
                    if clinical["infectious_flag"] is not None else None),
        medical_record_id=str(signed.medical_record_id) if signed else None,
    )
