"""Prescription events (RX): the prescription once the pharmacist approves it, and dispensing.

A prescription is reported when approved (the review is part of it: auditDoctor*), after its visit's revisit
record (the platform's diagnosis check, RX-01); dispensing after the prescription (RX-08). `prescription.approved`
names the review only: the signed document it approves is read from the prescription's `prescription.submitted`
event (`MapContext.earlier`). A rejected prescription goes back to the doctor and never reaches the patient, so
the platform does not take it (its auditStatus 0 record would name a prescription it never received).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper, NotReported, Requires
from connectors.supervision.mapping.codes import flag, subject_code
from connectors.supervision.mapping.visits import REVISIT_METHOD

__all__ = ["CIRCULATION_METHOD", "MAPPERS", "RECIPE_METHOD", "REVIEW_METHOD", "SUBMITTED"]

RECIPE_METHOD = "uploadRecipeIndicators"
REVIEW_METHOD = "uploadRecipeAuditIndicators"
CIRCULATION_METHOD = "uploadRecipeCirculationIndicators"
SUBMITTED = "prescription.submitted"
RECIPE_TYPE = {"western": "1", "patent": "2", "herbal": "3"}
# Both of the hospital's courier kinds deliver to the patient's address (RX-08); pick-up is not offered.
DELIVERY_TYPE = {"own": "1", "third_party": "1", "hospital_pickup": "0", "delivery": "1", "pharmacy_pickup": "2"}
REVIEW_PASSED = {"approved": "1", "rejected": "0", "returned": "0"}
FREQUENCY = {1: "qd", 2: "bid", 3: "tid", 4: "qid"}


def _frequency(item: Mapping[str, Any]) -> str:
    interval = int(item.get("interval_days") or 1)
    if interval > 1:
        return f"q{interval}d"
    times = int(item.get("times_per_day") or 0)
    return FREQUENCY.get(times, f"{times}次/日" if times else "")


def _route(item: Mapping[str, Any]) -> str:
    """The route is the first clause of the usage the doctor writes ("口服，每日早晨" → 口服)."""
    usage = str(item.get("usage") or "").replace(",", "，")
    return usage.split("，", 1)[0].strip()


def _item(item: Mapping[str, Any]) -> dict[str, Any]:
    pack = str(item.get("pack", "")).split()
    return {
        "drcode": item["drug_code"], "drname": item.get("name_zh", ""),
        "drmodel": f"{item.get('strength', '')}*{item.get('pack', '')}".replace(" ", ""),
        "admission": _route(item), "frequency": _frequency(item),
        "dosage": str(item.get("dose_per_time", "")), "drunit": item.get("dose_unit", ""),
        "dosageTotal": str(item.get("quantity_packs", "")), "doseUnit": "盒" if len(pack) < 2 else f"{pack[0]}{pack[1]}",
        "useDays": item.get("days_supply", ""), "otcFlag": flag(item.get("otc", False)),
    }


def approved(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    if "items" in p:  # the contract's first shape, the document in the event (older delivery tests)
        return _contract_approved(event, ctx)
    prescription_id = str(event.require("prescription_id"))
    submitted = ctx.earlier(SUBMITTED, prescription_id)
    document = dict(submitted["prescription"])
    visit_id = str(submitted["visit_id"])
    doctor = ctx.staff(staff_id=submitted["doctor_staff_id"])
    pharmacist = ctx.staff(staff_id=event.require("pharmacist_staff_id"))
    patient = ctx.patient(patient_id=document["patient"]["patient_id"])
    diagnoses = [dict(d) for d in document["diagnoses"]]
    department = str(submitted.get("department_code") or "")
    code = subject_code(department)
    record = {
        **ctx.organ(),
        "recipeUniqueID": prescription_id,
        "recipeID": str(p.get("prescription_number") or submitted.get("prescription_number") or prescription_id),
        "bussID": visit_id,
        "doctorId": doctor.staff_id, "doctorName": doctor.name, "doctorCertID": doctor.id_number,
        "subjectCode": code, "subjectName": ctx.department_name(code), "deptID": department,
        "auditDoctorId": pharmacist.staff_id, "auditDoctorCertID": pharmacist.id_number, "auditDoctor": pharmacist.name,
        "patientCertID": patient.id_number, "patientName": patient.name,
        "rationalFlag": "1",  # reported only once the pharmacist found it rational (approved)
        "doctorSign": submitted.get("doctor_jws", ""),  # the doctor's JWS over the document (RX-05)
        "icdCode": "|".join(str(d.get("icd10", "")) for d in diagnoses),
        "icdName": "|".join(str(d.get("name", "")) for d in diagnoses),
        "recipeType": RECIPE_TYPE.get(str(document.get("kind", "western")), "1"),
        "datein": ctx.local_time(submitted.get("issued_at") or document["issued_at"]),
        "effectivePeriod": document.get("validity_days", 3),
        "totalFee": str(document.get("total_cny", "")),
        "updateTime": ctx.local_time(event.require("reviewed_at")),
        "orderList": [_item(dict(i)) for i in document["items"]],
    }
    return Mapped(RECIPE_METHOD, [record], requires=(Requires(REVISIT_METHOD, visit_id),))


def not_yet(event: EventView, ctx: MapContext) -> NotReported:
    return NotReported("a prescription is reported once the pharmacist approves it (prescription.approved)")


def _contract_item(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "drcode": item["drug_code"], "drname": item.get("drug_name", ""), "drmodel": item.get("spec", ""),
        "admission": item.get("route", ""), "frequency": item.get("frequency", ""),
        "dosage": str(item.get("dose", "")), "drunit": item.get("dose_unit", ""),
        "dosageTotal": str(item.get("quantity", "")), "doseUnit": item.get("quantity_unit", ""),
        "useDays": item.get("days", ""), "otcFlag": flag(item.get("otc", False)),
    }


def _contract_approved(event: EventView, ctx: MapContext) -> Mapped:
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
        "orderList": [_contract_item(dict(i)) for i in event.require("items")],
    }
    return Mapped(RECIPE_METHOD, [record], requires=(Requires(REVISIT_METHOD, visit_id),))


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


def rejected(event: EventView, ctx: MapContext) -> NotReported:
    return NotReported("rejected: the prescription goes back to the doctor and is never issued (RX-06)")


def dispensing(event: EventView, ctx: MapContext) -> Mapped:
    """`dispensing.dispensed`, then `dispensing.delivery_updated` as it ships and arrives: each a new version."""
    p = event.payload
    prescription_id = str(event.require("prescription_id"))
    status = str(event.require("status"))
    apothecary = ctx.staff(user_id=p["pharmacist_user_id"]) if p.get("pharmacist_user_id") else None
    steps = {str(s.get("status")): s.get("at") for s in p.get("history") or [] if isinstance(s, Mapping)}
    changed = p.get("updated_at") or event.created_at
    record = {
        **ctx.organ(), "recipeUniqueID": prescription_id,
        "deliveryType": DELIVERY_TYPE.get(str(p.get("courier_kind") or p.get("delivery_type") or ""), ""),
        "deliveryFirm": p.get("courier_name") or p.get("courier") or "",
        "deliveryDate": ctx.local_time(p.get("dispensed_at") or steps.get("dispensed")),
        "sendTime": ctx.local_time(steps.get("shipped") or p.get("shipped_at")
                                   or (changed if status == "shipped" else None)),
        "finishTime": ctx.local_time(steps.get("delivered") or p.get("finished_at")
                                     or (changed if status == "delivered" else None)),
        "deliveryStatus": status,
        "dispensingApothecaryName": apothecary.name if apothecary else "",
        "dispensingApothecaryIdCard": apothecary.id_number if apothecary else "",
        "updateTime": ctx.local_time(event.created_at),
    }
    return Mapped(CIRCULATION_METHOD, [record], requires=(Requires(RECIPE_METHOD, prescription_id),))


MAPPERS: dict[str, Mapper] = {
    "prescription.submitted": not_yet,
    "prescription.approved": approved,
    "prescription.rejected": rejected,
    "dispensing.dispensed": dispensing,
    "dispensing.delivery_updated": dispensing,
    # The contract's first names, before the prescriptions area landed (scripted tests still emit them).
    "review.completed": reviewed,
    "review.approved": reviewed,
    "review.rejected": reviewed,
    "dispensing.shipped": dispensing,
    "dispensing.delivered": dispensing,
    "dispensing.collected": dispensing,
}
