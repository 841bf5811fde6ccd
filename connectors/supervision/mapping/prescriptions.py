"""Prescription events (RX): the prescription once the pharmacist approves it, and dispensing.

A prescription is reported when approved (the review is part of it: auditDoctor*), after its visit's revisit
record (the platform's diagnosis check, RX-01); dispensing after the prescription (RX-08). `prescription.approved`
names the review only: the signed document it approves is read from the prescription's `prescription.submitted`
event (`MapContext.earlier`), and a delivery update's dispensing pharmacist from its `dispensing.dispensed`. A
rejected prescription goes back to the doctor and never reaches the patient, so the platform does not take it
(its auditStatus 0 record would name a prescription it never received).
"""

from __future__ import annotations

from typing import Any

from connectors.supervision.mapping.base import (
    EventView,
    MapContext,
    Mapped,
    Mapper,
    NotReported,
    Requires,
    not_reported,
)
from connectors.supervision.mapping.codes import flag, subject_code
from connectors.supervision.mapping.visits import REVISIT_METHOD
from hospital.contracts.prescriptions import (
    DeliveryUpdated,
    Dispensed,
    DocumentItem,
    PrescriptionReviewed,
    PrescriptionSubmitted,
)

__all__ = ["CIRCULATION_METHOD", "DISPENSED", "MAPPERS", "RECIPE_METHOD", "SUBMITTED"]

RECIPE_METHOD = "uploadRecipeIndicators"
CIRCULATION_METHOD = "uploadRecipeCirculationIndicators"
SUBMITTED = "prescription.submitted"
DISPENSED = "dispensing.dispensed"
WESTERN = "1"  # recipeType 西药: the formulary is ATC-coded western medicine (the document names no kind)
# Both of the hospital's courier kinds deliver to the patient's address (RX-08); pick-up is not offered.
DELIVERY_TYPE = {"own": "1", "third_party": "1"}
FREQUENCY = {1: "qd", 2: "bid", 3: "tid", 4: "qid"}


def _frequency(item: DocumentItem) -> str:
    if item.interval_days > 1:
        return f"q{item.interval_days}d"
    times = item.times_per_day
    return FREQUENCY.get(times, f"{times}次/日" if times else "")


def _route(item: DocumentItem) -> str:
    """The route is the first clause of the usage the doctor writes ("口服，每日早晨" → 口服)."""
    return item.usage.replace(",", "，").split("，", 1)[0].strip()


def _item(item: DocumentItem) -> dict[str, Any]:
    pack = item.pack.split()
    return {
        "drcode": item.drug_code, "drname": item.name_zh,
        "drmodel": f"{item.strength}*{item.pack}".replace(" ", ""),
        "admission": _route(item), "frequency": _frequency(item),
        "dosage": item.dose_per_time, "drunit": item.dose_unit,
        "dosageTotal": str(item.quantity_packs), "doseUnit": "盒" if len(pack) < 2 else f"{pack[0]}{pack[1]}",
        "useDays": item.days_supply,
        "otcFlag": flag(False),  # nothing is dispensed online without a prescription
    }


def approved(event: EventView[PrescriptionReviewed], ctx: MapContext) -> Mapped:
    p = event.data
    submitted = ctx.earlier(SUBMITTED, p.prescription_id, PrescriptionSubmitted)
    document = submitted.prescription
    doctor = ctx.staff(staff_id=submitted.doctor_staff_id)
    pharmacist = ctx.staff(staff_id=p.pharmacist_staff_id)
    patient = ctx.patient(patient_id=document.patient.patient_id)
    code = subject_code(submitted.department_code)
    record = {
        **ctx.organ(),
        "recipeUniqueID": p.prescription_id,
        "recipeID": p.prescription_number,
        "bussID": submitted.visit_id,
        "doctorId": doctor.staff_id, "doctorName": doctor.name, "doctorCertID": doctor.id_number,
        "subjectCode": code, "subjectName": ctx.department_name(code), "deptID": submitted.department_code,
        "auditDoctorId": pharmacist.staff_id, "auditDoctorCertID": pharmacist.id_number, "auditDoctor": pharmacist.name,
        "patientCertID": patient.id_number, "patientName": patient.name,
        "rationalFlag": "1",  # reported only once the pharmacist found it rational (approved)
        "doctorSign": submitted.doctor_jws,  # the doctor's JWS over the document (RX-05)
        "icdCode": "|".join(d.icd10 for d in document.diagnoses),
        "icdName": "|".join(d.name for d in document.diagnoses),
        "recipeType": WESTERN,
        "datein": ctx.local_time(submitted.issued_at),
        "effectivePeriod": document.validity_days,
        "totalFee": document.total_cny,
        "updateTime": ctx.local_time(p.reviewed_at),
        "orderList": [_item(i) for i in document.items],
    }
    return Mapped(RECIPE_METHOD, [record], requires=(Requires(REVISIT_METHOD, submitted.visit_id),))


def not_yet(event: EventView[Any], ctx: MapContext) -> NotReported:
    return NotReported("a prescription is reported once the pharmacist approves it (prescription.approved)")


def rejected(event: EventView[Any], ctx: MapContext) -> NotReported:
    return NotReported("rejected: the prescription goes back to the doctor and is never issued (RX-06)")


def dispensing(event: EventView[Dispensed | DeliveryUpdated], ctx: MapContext) -> Mapped:
    """`dispensing.dispensed`, then `dispensing.delivery_updated` as it ships and arrives: each a new version."""
    p = event.data
    if isinstance(p, Dispensed):
        first, steps, changed = p, {}, p.dispensed_at
    else:
        first = ctx.earlier(DISPENSED, p.dispensing_id, Dispensed)
        steps, changed = {s.status: s.at for s in p.history}, p.updated_at
    apothecary = ctx.staff(user_id=first.pharmacist_user_id)
    record = {
        **ctx.organ(), "recipeUniqueID": p.prescription_id,
        "deliveryType": DELIVERY_TYPE[p.courier_kind],
        "deliveryFirm": p.courier_name,
        "deliveryDate": ctx.local_time(first.dispensed_at),
        "sendTime": ctx.local_time(steps.get("shipped") or (changed if p.status == "shipped" else None)),
        "finishTime": ctx.local_time(steps.get("delivered") or (changed if p.status == "delivered" else None)),
        "deliveryStatus": p.status,
        "dispensingApothecaryName": apothecary.name,
        "dispensingApothecaryIdCard": apothecary.id_number,
        # The version is when the state changed (the hospital's clock), not when the outbox row was written: a
        # busy second between dispensing and shipping must not decide how many versions the platform holds.
        "updateTime": ctx.local_time(changed),
    }
    return Mapped(CIRCULATION_METHOD, [record], requires=(Requires(RECIPE_METHOD, p.prescription_id),))


MAPPERS: dict[str, Mapper] = {
    "prescription.submitted": not_yet,
    "prescription.approved": approved,
    "prescription.rejected": rejected,
    "prescription.voided": not_reported("a voided prescription never took effect, so it was never filed "
                                        "(uploadRecipe follows the approval); the visit's end is reported"),
    "dispensing.dispensed": dispensing,
    "dispensing.delivery_updated": dispensing,
}
