"""What the supervision platform is told about an encounter (SUP-02), in our own words: the revisit record as
it stands, with the present diagnosis from the signed outpatient record, and the signed record itself, each
built as its contract (hospital/contracts/visits.py `RevisitRecord`, `EmrSigned`, which also name what the
outbox seals).

The revisit record's fields are the booking sub-area's (`visits.booking.payloads`); this module adds what only
the encounter knows, the signed record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.visits import EmrSigned, RevisitRecord
from hospital.visits.booking.models import Visit
from hospital.visits.booking.payloads import SignedRecord, people_of, revisit_record
from hospital.visits.booking.queries import department_name
from hospital.visits.encounter.models import MedicalRecord
from hospital.visits.encounter.queries import medical_record_of_visit, open_emr

__all__ = ["current_revisit_record", "emr_record", "signed_record"]


async def signed_record(session: AsyncSession, ctx: HospitalContext, visit: Visit) -> SignedRecord | None:
    """What the revisit record takes from the visit's EMR, once it is signed off; None before."""
    record = await medical_record_of_visit(session, visit.id)
    if record is None or record.signed_at is None:
        return None
    content = open_emr(ctx, record)
    return SignedRecord(record.id, content["diagnosis_icd10"], content["diagnosis_name"], content.get("present_illness"))


async def current_revisit_record(session: AsyncSession, ctx: HospitalContext, visit: Visit) -> RevisitRecord:
    """The revisit record of `visit` now, its present diagnosis from the signed EMR, if any."""
    return await revisit_record(session, ctx, visit, await signed_record(session, ctx, visit))


async def emr_record(session: AsyncSession, ctx: HospitalContext, visit: Visit, record: MedicalRecord) -> EmrSigned:
    """The signed outpatient EMR of a visit (REC-01), for `emr.signed`: `record` is signed off."""
    assert record.signed_at is not None and record.signed_by_user_id is not None and record.signature is not None
    content = open_emr(ctx, record)
    people = await people_of(session, ctx, visit)
    visited_at = content.get("visited_at")
    return EmrSigned(
        medical_record_id=str(record.id),
        visit_id=str(visit.id),
        patient_id=str(visit.patient_id),
        department_code=visit.department_code,
        department_name=await department_name(session, ctx, visit.department_code),
        doctor_name=people.doctor_name,
        doctor_id_number=people.doctor_id_number,
        patient_name=people.patient_name,
        patient_id_number=people.patient_id_number,
        patient_sex=people.patient_sex,
        patient_age=people.patient_age,
        visited_at=datetime.fromisoformat(visited_at) if visited_at else None,
        chief_complaint=content["chief_complaint"],
        present_illness=content["present_illness"],
        past_history=content.get("past_history", ""),
        allergy_history=content["allergy_history"],
        examination_findings=content.get("examination_findings", ""),
        diagnosis_icd10=content["diagnosis_icd10"],
        diagnosis_name=content["diagnosis_name"],
        treatment_advice=content["treatment_advice"],
        signed_at=record.signed_at,
        signed_by_user_id=str(record.signed_by_user_id),
        signature=record.signature,  # the doctor's JWS over the record (RX-05)
        record_version=record.version,
    )
