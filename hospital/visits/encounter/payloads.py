"""What the supervision platform is told about an encounter (SUP-02), in our own words: the revisit record as
it stands, with the present diagnosis from the signed outpatient record, and the signed record itself.

The revisit record's fields are the booking sub-area's (`visits.booking.payloads`); this module adds what only
the encounter knows, the signed record.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.visits.booking.models import Visit
from hospital.visits.booking.payloads import PEOPLE_SEALED, SignedRecord, people_of, revisit_record
from hospital.visits.booking.queries import department_name
from hospital.visits.encounter.models import MedicalRecord
from hospital.visits.encounter.queries import medical_record_of_visit, open_emr

__all__ = ["EMR_SEALED", "current_revisit_record", "emr_record", "signed_record"]

# What is sealed in the outbox, not kept in clear (REC-03): who the people are and everything clinical.
EMR_SEALED = (*PEOPLE_SEALED, "visited_at", "chief_complaint", "present_illness", "past_history", "allergy_history",
              "examination_findings", "diagnosis_icd10", "diagnosis_name", "treatment_advice",
              "signature")  # a JWS carries its payload readable: sealed with the record it signs


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def signed_record(session: AsyncSession, ctx: HospitalContext, visit: Visit) -> SignedRecord | None:
    """What the revisit record takes from the visit's EMR, once it is signed off; None before."""
    record = await medical_record_of_visit(session, visit.id)
    if record is None or record.signed_at is None:
        return None
    content = open_emr(ctx, record)
    return SignedRecord(record.id, content["diagnosis_icd10"], content["diagnosis_name"], content.get("present_illness"))


async def current_revisit_record(session: AsyncSession, ctx: HospitalContext, visit: Visit) -> dict[str, Any]:
    """The revisit record of `visit` now, its present diagnosis from the signed EMR, if any."""
    return await revisit_record(session, ctx, visit, await signed_record(session, ctx, visit))


async def emr_record(session: AsyncSession, ctx: HospitalContext, visit: Visit, record: MedicalRecord) -> dict[str, Any]:
    """The signed outpatient EMR of a visit (REC-01), for `emr.signed`."""
    content = open_emr(ctx, record)
    people = await people_of(session, ctx, visit)
    return {
        "medical_record_id": str(record.id),
        "visit_id": str(visit.id),
        "patient_id": str(visit.patient_id),
        "department_code": visit.department_code,
        "department_name": await department_name(session, ctx, visit.department_code),
        "doctor_name": people["doctor_name"],
        "doctor_id_number": people["doctor_id_number"],
        "patient_name": people["patient_name"],
        "patient_id_number": people["patient_id_number"],
        "patient_sex": people["patient_sex"],
        "patient_age": people["patient_age"],
        "visited_at": content.get("visited_at"),
        "chief_complaint": content["chief_complaint"],
        "present_illness": content["present_illness"],
        "past_history": content.get("past_history", ""),
        "allergy_history": content["allergy_history"],
        "examination_findings": content.get("examination_findings", ""),
        "diagnosis_icd10": content["diagnosis_icd10"],
        "diagnosis_name": content["diagnosis_name"],
        "treatment_advice": content["treatment_advice"],
        "signed_at": _iso(record.signed_at),
        "signed_by_user_id": str(record.signed_by_user_id) if record.signed_by_user_id else None,
        "signature": record.signature,  # the doctor's JWS over the record (RX-05)
        "record_version": record.version,
    }
