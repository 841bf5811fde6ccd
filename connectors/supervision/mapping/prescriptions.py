"""Prescription events (RX): the prescription once the pharmacist approves it, the review, and dispensing.

A prescription is reported when approved (the review is part of it: auditDoctor*), after its visit's revisit
record (the platform's diagnosis check, RX-01); dispensing after the prescription (RX-08).
"""

from __future__ import annotations

from typing import Any

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper, NotReported, Requires
from connectors.supervision.mapping.codes import flag, subject_code
from connectors.supervision.mapping.visits import REVISIT_METHOD

__all__ = ["CIRCULATION_METHOD", "MAPPERS", "RECIPE_METHOD", "REVIEW_METHOD"]

RECIPE_METHOD = "uploadRecipeIndicators"
REVIEW_METHOD = "uploadRecipeAuditIndicators"
CIRCULATION_METHOD = "uploadRecipeCirculationIndicators"
RECIPE_TYPE = {"western": "1", "patent": "2", "herbal": "3"}
DELIVERY_TYPE = {"hospital_pickup": "0", "delivery": "1", "pharmacy_pickup": "2"}
REVIEW_PASSED = {"approved": "1", "rejected": "0", "returned": "0"}


def _item(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "drcode": item["drug_code"], "drname": item.get("drug_name", ""), "drmodel": item.get("spec", ""),
        "admission": item.get("route", ""), "frequency": item.get("frequency", ""),
        "dosage": str(item.get("dose", "")), "drunit": item.get("dose_unit", ""),
        "dosageTotal": str(item.get("quantity", "")), "doseUnit": item.get("quantity_unit", ""),
        "useDays": item.get("days", ""), "otcFlag": flag(item.get("otc", False)),
    }


def approved(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    prescription_id = str(event.require("prescription_id"))
    visit_id = str(event.require("visit_id"))
    doctor = ctx.staff(user_id=event.require("doctor_user_id"))
    pharmacist = ctx.staff(user_id=event.require("pharmacist_user_id"))
    patient = ctx.patient(patient_id=event.require("patient_id"))
    diagnoses = [dict(d) for d in event.require("diagnoses")]
    code = subject_code(p.get("department_code"))
    record = {
        **ctx.organ(),
        "recipeUniqueID": prescription_id, "recipeID": str(p.get("number") or prescription_id),
        "bussID": visit_id,
        "doctorId": doctor.staff_id, "doctorName": doctor.name, "doctorCertID": doctor.id_number,
        "subjectCode": code, "subjectName": ctx.department_name(code), "deptID": p.get("department_code", ""),
        "auditDoctorId": pharmacist.staff_id, "auditDoctorCertID": pharmacist.id_number, "auditDoctor": pharmacist.name,
        "patientCertID": patient.id_number, "patientName": patient.name,
        "rationalFlag": "1",  # reported only once the pharmacist found it rational (approved)
        "doctorSign": p.get("signature", ""),
        "icdCode": "|".join(str(d.get("icd10_code", "")) for d in diagnoses),
        "icdName": "|".join(str(d.get("name", "")) for d in diagnoses),
        "recipeType": RECIPE_TYPE.get(str(p.get("kind", "western")), "1"),
        "datein": ctx.local_time(event.require("issued_at")),
        "effectivePeriod": p.get("valid_days", 3),
        "totalFee": str(p.get("total_fee", "")),
        "updateTime": ctx.local_time(p.get("approved_at") or event.created_at),
        "orderList": [_item(dict(i)) for i in event.require("items")],
    }
    return Mapped(RECIPE_METHOD, [record], requires=(Requires(REVISIT_METHOD, visit_id),))


def not_yet(event: EventView, ctx: MapContext) -> NotReported:
    return NotReported("a prescription is reported once the pharmacist approves it (prescription.approved)")


def reviewed(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    pharmacist = ctx.staff(user_id=event.require("pharmacist_user_id"))
    decision = str(p.get("decision") or event.event_type.rsplit(".", 1)[-1])
    at = ctx.local_time(event.require("reviewed_at"))
    record = {
        **ctx.organ(), "recipeUniqueID": str(event.require("prescription_id")), "recipeCode": p.get("number", ""),
        "auditDoctorId": pharmacist.staff_id, "auditDoctorCertID": pharmacist.id_number,
        "auditDoctor": pharmacist.name, "auditDoctorSign": p.get("signature", ""),
        "auditStatus": REVIEW_PASSED.get(decision, "0"), "checkDate": at, "updateTime": at,
    }
    return Mapped(REVIEW_METHOD, [record])


def dispensing(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    prescription_id = str(event.require("prescription_id"))
    apothecary = ctx.staff(user_id=p["pharmacist_user_id"]) if p.get("pharmacist_user_id") else None
    record = {
        **ctx.organ(), "recipeUniqueID": prescription_id,
        "deliveryType": DELIVERY_TYPE.get(str(p.get("delivery_type", "")), ""),
        "deliveryFirm": p.get("courier", ""),
        "deliveryDate": ctx.local_time(p.get("dispensed_at")),
        "sendTime": ctx.local_time(p.get("shipped_at")),
        "finishTime": ctx.local_time(p.get("finished_at")),
        "deliveryStatus": str(event.require("status")),
        "dispensingApothecaryName": apothecary.name if apothecary else "",
        "dispensingApothecaryIdCard": apothecary.id_number if apothecary else "",
        "updateTime": ctx.local_time(event.created_at),
    }
    return Mapped(CIRCULATION_METHOD, [record], requires=(Requires(RECIPE_METHOD, prescription_id),))


MAPPERS: dict[str, Mapper] = {
    "prescription.submitted": not_yet,
    "prescription.signed": not_yet,
    "prescription.approved": approved,
    "review.completed": reviewed,
    "review.approved": reviewed,
    "review.rejected": reviewed,
    "dispensing.dispensed": dispensing,
    "dispensing.shipped": dispensing,
    "dispensing.delivered": dispensing,
    "dispensing.collected": dispensing,
}
