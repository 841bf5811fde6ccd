"""Prescription events (RX): every prescription at signing and again at its review, and dispensing (SUP-02/03).

The rhythm is the province's (`data/provinces.csv`, `MapContext.prescription_at_signing`):
- at signing (Guangdong, the default): `prescription.submitted` → uploadRecipeIndicators (after the visit's consult
  record, RX-01), its findings coded and `rationalFlag` computed from them, the long-prescription reason carried;
  the review → uploadRecipeAuditIndicators (the pharmacist's identity, signature, time, coded findings, approved or
  rejected) and uploadRecipeVerificationIndicators (the prescription's verification state); dispensing waits for
  the approval's audit record.
- when approved (Zhejiang): `prescription.approved` → uploadRecipeIndicators with the review inside (auditDoctor*),
  after the consult record; a rejected prescription is never issued and never reported.
A pharmacist who approves despite warnings kept at signing raises a risk warning (`prescription.warnings_overridden`
→ pushMedicalDispute, businessType 3, SUP-04). The review events name the review only: the signed document is read
from the prescription's `prescription.submitted` (`MapContext.earlier`), a delivery update's dispensing pharmacist
from its `dispensing.dispensed`.
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
from connectors.supervision.mapping.visits import CONSULT_METHOD
from hospital.contracts.prescriptions import (
    DeliveryUpdated,
    Dispensed,
    DocumentItem,
    Finding,
    PrescriptionReviewed,
    PrescriptionSubmitted,
)

__all__ = ["AUDIT_METHOD", "CIRCULATION_METHOD", "DISPENSED", "MAPPERS", "RECIPE_METHOD", "SUBMITTED",
           "VERIFICATION_METHOD", "rational"]

RECIPE_METHOD = "uploadRecipeIndicators"
AUDIT_METHOD = "uploadRecipeAuditIndicators"
VERIFICATION_METHOD = "uploadRecipeVerificationIndicators"
DISPUTE_METHOD = "pushMedicalDispute"
RISK_WARNING = "3"  # pushMedicalDispute businessType of a risk warning (SUP-04)
CONCERNS = ("warn", "block")  # findings that make a prescription not plainly rational
REJECTED_ISSUE = "RX-06:rejected_by_pharmacist"
PHARMACY = "药学部门"  # who reports an overridden warning: a department, the pharmacist by staff id only
CIRCULATION_METHOD = "uploadRecipeCirculationIndicators"
SUBMITTED = "prescription.submitted"
DISPENSED = "dispensing.dispensed"
WESTERN = "1"  # recipeType 西药: the formulary is ATC-coded western medicine (the document names no kind)
# Both of the hospital's courier kinds deliver to the patient's address (RX-08); a pick-up the patient collected
# at the hospital's pharmacy is "0" (hospital pick-up), known once it is collected.
DELIVERY_TYPE = {"own": "1", "third_party": "1"}
HOSPITAL_PICKUP = "0"
FREQUENCY = {1: "qd", 2: "bid", 3: "tid", 4: "qid"}


def _frequency(item: DocumentItem) -> str:
    """The code the doctor chose and the rules checked (qd … qw, biw, prn); read from the times and the interval
    only for a document signed before the code was recorded."""
    if item.frequency:
        return item.frequency
    if item.interval_days > 1:
        return f"q{item.interval_days}d"
    times = item.times_per_day
    return FREQUENCY.get(times, f"{times}次/日" if times else "")


def _route(item: DocumentItem) -> str:
    """The route is the first clause of the usage the doctor writes ("口服，每日早晨" → 口服)."""
    return item.usage.replace(",", "，").split("，", 1)[0].strip()


def _item(item: DocumentItem) -> dict[str, Any]:
    size, unit = item.pack_size_unit()
    return {
        "drcode": item.drug_code, "drname": item.name_zh,
        "drmodel": f"{item.strength_text()}*{item.pack_text()}".replace(" ", ""),
        "admission": _route(item), "frequency": _frequency(item),
        "dosage": item.dose_per_time, "drunit": item.dose_unit,
        "dosageTotal": str(item.quantity_packs), "doseUnit": f"{size}{unit}" if size else "盒",
        "useDays": item.days_supply,
        "otcFlag": flag(False),  # nothing is dispensed online without a prescription
    }


def rational(findings: list[Finding], *, rejected: bool = False, reason_codes: list[str] | None = None
             ) -> tuple[str, str]:
    """(rationalFlag, rationalIssues): "1" when no rule found a concern, else "0" with each concern coded
    `RULE:category` (a rejection adds its own code, then the pharmacist's 处方点评 codes as `RX-06:<code>`).
    Computed from the rules' findings and the review, never constant."""
    issues = [f"{f.rule_id}:{f.category or f.severity}" for f in findings if f.severity in CONCERNS]
    if rejected:
        issues.append(REJECTED_ISSUE)
        issues.extend(f"RX-06:{code}" for code in reason_codes or ())
    codes = "|".join(dict.fromkeys(issues))
    return ("0" if codes else "1"), codes


def _recipe(submitted: PrescriptionSubmitted, ctx: MapContext, changed: Any) -> dict[str, Any]:
    document = submitted.prescription
    doctor = ctx.staff(staff_id=submitted.doctor_staff_id)
    patient = ctx.patient(patient_id=document.patient.patient_id)
    code = subject_code(submitted.department_code)
    flag_, issues = rational(submitted.findings)
    return {
        **ctx.organ(),
        "recipeUniqueID": submitted.prescription_id,
        "recipeID": submitted.prescription_number,
        "bussID": submitted.visit_id,
        "doctorId": doctor.staff_id, "doctorName": doctor.name, "doctorCertID": doctor.id_number,
        "subjectCode": code, "subjectName": ctx.department_name(code), "deptID": submitted.department_code,
        "patientCertID": patient.id_number, "patientName": patient.name,
        "rationalFlag": flag_, "rationalIssues": issues,
        "longRecipeReason": document.long_prescription_reason or "",
        "doctorSign": submitted.doctor_jws,  # the doctor's JWS over the document (RX-05)
        "CAInfo": submitted.doctor_certificate_serial,  # the certificate it was signed with
        "icdCode": "|".join(d.icd10 for d in document.diagnoses),
        "icdName": "|".join(d.name for d in document.diagnoses),
        "recipeType": WESTERN,
        "datein": ctx.local_time(submitted.issued_at),
        "effectivePeriod": document.validity_days,
        "totalFee": document.total_cny,
        "verificationStatus": "0",  # not yet verified by a pharmacist
        "updateTime": ctx.local_time(changed),
        "orderList": [_item(i) for i in document.items],
    }


def _reviewer(p: PrescriptionReviewed, ctx: MapContext) -> dict[str, Any]:
    pharmacist = ctx.staff(staff_id=p.pharmacist_staff_id)
    return {"auditDoctorId": pharmacist.staff_id, "auditDoctorCertID": pharmacist.id_number,
            "auditDoctor": pharmacist.name}


def submitted(event: EventView[PrescriptionSubmitted], ctx: MapContext) -> Mapped | NotReported:
    if not ctx.prescription_at_signing:
        return NotReported("this province takes a prescription once the pharmacist approves it "
                           "(prescription.approved)")
    p = event.data
    return Mapped(RECIPE_METHOD, [_recipe(p, ctx, p.issued_at)], requires=(Requires(CONSULT_METHOD, p.visit_id),))


def approved(event: EventView[PrescriptionReviewed], ctx: MapContext) -> Mapped:
    p = event.data
    if ctx.prescription_at_signing:
        return _audit(event, ctx)
    submitted_ = ctx.earlier(SUBMITTED, p.prescription_id, PrescriptionSubmitted)
    flag_, issues = rational(p.findings)
    record = {**_recipe(submitted_, ctx, p.reviewed_at), **_reviewer(p, ctx), "rationalFlag": flag_,
              "rationalIssues": issues, "verificationStatus": "1"}
    return Mapped(RECIPE_METHOD, [record], requires=(Requires(CONSULT_METHOD, submitted_.visit_id),))


def _audit(event: EventView[PrescriptionReviewed], ctx: MapContext) -> Mapped:
    """The pharmacist's review (RX-06): who, their signature and certificate, when, the decision and its codes."""
    p = event.data
    approve = p.decision == "approve"
    flag_, issues = rational(p.findings, rejected=not approve, reason_codes=p.reason_codes)
    record = {
        **ctx.organ(), "recipeUniqueID": p.prescription_id, "recipeID": p.prescription_number,
        "recipeCode": p.prescription_number, **_reviewer(p, ctx),
        "auditDoctorSign": p.review_jws, "auditCAInfo": p.pharmacist_certificate_serial,
        "auditStatus": flag(approve), "rationalFlag": flag_, "rationalIssues": issues,
        "auditOpinion": "；".join(p.reasons), "checkDate": ctx.local_time(p.reviewed_at),
        "updateTime": ctx.local_time(p.reviewed_at),
    }
    return Mapped(AUDIT_METHOD, [record], requires=(Requires(RECIPE_METHOD, p.prescription_id),))


def rejected(event: EventView[PrescriptionReviewed], ctx: MapContext) -> Mapped | NotReported:
    if ctx.prescription_at_signing:
        return _audit(event, ctx)
    return NotReported("rejected: the prescription goes back to the doctor and is never issued (RX-06)")


def verified(event: EventView[PrescriptionReviewed], ctx: MapContext) -> Mapped | NotReported:
    """The prescription's verification state after review, with the verifying pharmacist."""
    p = event.data
    approve = p.decision == "approve"
    if not approve and not ctx.prescription_at_signing:
        return NotReported("rejected: never issued, so never reported in this province")
    reviewer = _reviewer(p, ctx)
    record = {
        **ctx.organ(), "recipeUniqueID": p.prescription_id, "recipeID": p.prescription_number,
        "isPay": "0", "verificationStatus": flag(approve), "verificationTime": ctx.local_time(p.reviewed_at),
        "verificationUnit": ctx.organ_name, "auditDoctorCertID": reviewer["auditDoctorCertID"],
        "auditDoctor": reviewer["auditDoctor"], "auditDoctorSign": p.review_jws,
        "rationalIssues": rational(p.findings, rejected=not approve, reason_codes=p.reason_codes)[1],
        "updateTime": ctx.local_time(p.reviewed_at),
    }
    return Mapped(VERIFICATION_METHOD, [record], requires=(Requires(RECIPE_METHOD, p.prescription_id),))


def warnings_overridden(event: EventView[PrescriptionReviewed], ctx: MapContext) -> Mapped:
    """A risk warning (SUP-04): the pharmacist approved a prescription despite the warnings kept at signing. The
    record codes the warnings and names the pharmacist by staff id; the messages (drugs and doses of a patient) and
    names stay sealed in the hospital."""
    p = event.data
    codes = rational(p.findings)[1]
    record = {
        **ctx.organ(), "eventID": f"overridden_warning:{p.prescription_id}", "businessType": RISK_WARNING,
        "warningType": "overridden_warning", "eventStatus": "approved",
        "eventDescription": (f"处方 {p.prescription_number} 经药师（人员编号 {p.pharmacist_staff_id}）审核通过，"
                             f"审核时覆盖了警示：{codes}"),
        "eventDate": ctx.local_time(p.reviewed_at), "eventReason": codes, "damageDegree": "风险预警",
        "reportPerson": PHARMACY, "reportDate": ctx.local_time(p.reviewed_at),
        "updateTime": ctx.local_time(p.reviewed_at),
    }
    return Mapped(DISPUTE_METHOD, [record])


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
        "deliveryType": HOSPITAL_PICKUP if p.status == "collected" or "collected" in steps
        else DELIVERY_TYPE[p.courier_kind],
        "deliveryFirm": p.courier_name,
        "deliveryDate": ctx.local_time(first.dispensed_at),
        "sendTime": ctx.local_time(steps.get("shipped") or (changed if p.status == "shipped" else None)),
        # a delivery finishes when it arrives, a pick-up when the patient collects it at the pharmacy (RX-08)
        "finishTime": ctx.local_time(steps.get("delivered") or steps.get("collected")
                                     or (changed if p.status in ("delivered", "collected") else None)),
        "deliveryStatus": p.status,
        "dispensingApothecaryName": apothecary.name,
        "dispensingApothecaryIdCard": apothecary.id_number,
        # The version is when the state changed (the hospital's clock), not when the outbox row was written: a
        # busy second between dispensing and shipping must not decide how many versions the platform holds.
        "updateTime": ctx.local_time(changed),
    }
    # Dispensing follows the approval the platform holds: its audit record, or the prescription approved.
    approval = AUDIT_METHOD if ctx.prescription_at_signing else RECIPE_METHOD
    return Mapped(CIRCULATION_METHOD, [record], requires=(Requires(approval, p.prescription_id),))


MAPPERS: dict[str, Mapper] = {
    "prescription.submitted": submitted,
    "prescription.approved": approved,
    "prescription.rejected": rejected,
    "prescription.verified": verified,
    "prescription.warnings_overridden": warnings_overridden,
    # The method list has no withdrawal of a prescription: one voided before any decision stays as filed at signing
    # (real-time provinces) or was never filed (Zhejiang: on approval); the visit's end is reported.
    "prescription.voided": not_reported("the platform's methods have no withdrawal of a prescription; the visit's "
                                        "end is reported"),
    "dispensing.dispensed": dispensing,
    "dispensing.delivery_updated": dispensing,
}
