"""FHIR for prescriptions (RX): one MedicationRequest per line of the signed document, grouped by the
prescription — draft when the doctor signs it, active when the pharmacist approves it, cancelled when the
pharmacist rejects it (RX-06) — with a Provenance carrying the doctor's JWS and then the pharmacist's too (RX-05);
the rule findings kept at signing and the pharmacist's reasons for a rejection as DetectedIssue; each dispensing
as MedicationDispense through delivery (RX-08); the drug catalogue as Medication.

Only `prescription.submitted` carries the signed document; the review and dispensing events name the
prescription, and the document is read from its `prescription.submitted` (`MapContext.earlier`), as the
gateway's mappers do.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.detectedissue import DetectedIssue
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.provenance import Provenance
from fhir.resources.R4B.resource import Resource

from connectors.supervision.fhir.resources import (
    build,
    coded,
    derived_id,
    diagnosis,
    entries,
    identifier,
    patient,
    practitioner_ref,
    ref,
    signature,
)
from connectors.supervision.mapping.base import (
    After,
    EventView,
    MapContext,
    Mapped,
    Mapper,
    MappingFailed,
    StaffRef,
    not_reported,
)
from hospital.contracts.prescriptions import (
    DeliveryUpdated,
    Dispensed,
    DocumentItem,
    Finding,
    FormularyCatalogue,
    PrescriptionReviewed,
    PrescriptionSubmitted,
)

__all__ = ["FHIR_MAPPERS", "request_ids"]

SUBMITTED = "prescription.submitted"
DISPENSED = "dispensing.dispensed"
UCUM = "http://unitsofmeasure.org"
DOSE_UNITS = {"mg": "mg", "g": "g", "ug": "ug", "μg": "ug", "ml": "mL", "mL": "mL", "IU": "[iU]"}
PACKS = "盒"  # quantity_packs counts boxes of the drug's pack
AUTHOR_SIGNATURE = ("1.2.840.10065.1.12.1.1", "Author's Signature")
# The pharmacist's JWS: approving verifies the prescription; rejecting is a review that sends it back (RX-06).
REVIEW_SIGNATURE = {"approved": ("1.2.840.10065.1.12.1.5", "Verification Signature"),
                    "rejected": ("1.2.840.10065.1.12.1.13", "Review Signature")}
PROVENANCE_ROLE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SEVERITY = {"block": "high", "warn": "moderate", "info": "low"}
OUTPATIENT = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                          "code": "outpatient"}]}
DISPENSE_STATUS = {"dispensed": "in-progress", "shipped": "in-progress", "delivered": "completed",
                   "collected": "completed"}
DECIDED = {"approved": "approved by the pharmacist's review (RX-06)",
           "rejected": "rejected by the pharmacist's review and sent back to the doctor (RX-06)"}


def request_ids(prescription_id: str, items: list[Any]) -> list[str]:
    """One MedicationRequest per line, the same ids at every stage (draft, active, cancelled)."""
    return [derived_id("rx", prescription_id, str(index)) for index in range(len(items))]


def _submitted(prescription_id: str, ctx: MapContext) -> PrescriptionSubmitted:
    return ctx.earlier(SUBMITTED, prescription_id, PrescriptionSubmitted)


def _medication(item: DocumentItem) -> dict[str, Any]:
    name = item.name_zh or item.drug_code
    return {"coding": [{"system": "urn:hospital:formulary", "code": item.drug_code, "display": name}],
            "text": f"{name} {item.strength_text()}, {item.pack_text()}".strip(" ,")}


def _dosage(item: DocumentItem) -> dict[str, Any]:
    """The doctor's instruction as written, and as numbers: dose per time, times per `interval_days` days."""
    unit = item.dose_unit
    dose: dict[str, Any] = {"value": Decimal(item.dose_per_time), "unit": unit}
    if unit in DOSE_UNITS:
        dose.update(system=UCUM, code=DOSE_UNITS[unit])
    times, every = item.times_per_day, item.interval_days
    usage = item.usage.strip()
    route = usage.replace(",", "，").split("，", 1)[0].strip()  # "口服，每日早晨" → 口服, as the gateway's admission
    schedule = f"每{'' if every == 1 else f' {every} '}日 {times} 次" if times else ""
    text = "；".join(t for t in (usage, f"每次 {item.dose_per_time} {unit}", schedule) if t)
    return {"text": text, "route": {"text": route} if route else None,
            "timing": {"repeat": {"frequency": times, "period": every, "periodUnit": "d"}} if times else None,
            "doseAndRate": [{"doseQuantity": dose}]}


def _requests(submitted: PrescriptionSubmitted, ctx: MapContext, status: str, *, issues: list[str],
              status_reason: str = "") -> list[Resource]:
    document = submitted.prescription
    items = document.items
    doctor = ctx.staff(staff_id=submitted.doctor_staff_id)
    patient_id = document.patient.patient_id
    reasons = [diagnosis(d.icd10, d.name) for d in document.diagnoses]
    number = submitted.prescription_number
    resources = []
    for rid, item in zip(request_ids(submitted.prescription_id, items), items, strict=True):
        supply = {"value": item.days_supply, "unit": "d", "system": UCUM, "code": "d"}
        resources.append(build(
            MedicationRequest, id=rid, identifier=[identifier("prescription-number", number)] if number else None,
            status=status, statusReason={"text": status_reason} if status_reason else None, intent="order",
            category=[OUTPATIENT], groupIdentifier=identifier("prescription", submitted.prescription_id),
            medicationCodeableConcept=_medication(item), subject=ref("Patient", patient_id),
            encounter=ref("Encounter", submitted.visit_id), authoredOn=submitted.issued_at,
            requester=practitioner_ref(doctor), reasonCode=reasons or None,
            note=[{"text": document.long_prescription_reason}] if document.long_prescription_reason else None,
            dosageInstruction=[_dosage(item)], detectedIssue=[ref("DetectedIssue", i) for i in issues] or None,
            dispenseRequest={"validityPeriod": {"start": submitted.issued_at, "end": submitted.valid_until},
                             "quantity": {"value": item.quantity_packs, "unit": PACKS},
                             "expectedSupplyDuration": supply, "numberOfRepeatsAllowed": 0}))
    return resources


def _findings(submitted: PrescriptionSubmitted, findings: list[Finding], requests: list[str], *,
              reviewer: StaffRef | None = None, decision: str = "", reviewed_at: datetime | None = None
              ) -> list[Resource]:
    """The rule findings kept at signing (warnings and notes the pharmacist must see, RX-03/RX-04): preliminary
    until the pharmacist decides, then final with what was decided as their mitigation."""
    patient_id = submitted.prescription.patient.patient_id
    issues = []
    for n, finding in enumerate(findings):
        mitigation = None
        if reviewer is not None:
            mitigation = [{"action": {"text": DECIDED.get(decision, decision)}, "date": reviewed_at,
                           "author": practitioner_ref(reviewer)}]
        issues.append(build(
            DetectedIssue, id=derived_id("finding", submitted.prescription_id, str(n)),
            status="final" if reviewer is not None else "preliminary",
            code=coded("rule", finding.rule_id, text=finding.category or finding.rule_id),
            severity=SEVERITY.get(finding.severity.lower()), patient=ref("Patient", patient_id),
            identifiedDateTime=submitted.issued_at, detail=finding.message or None,
            implicated=[ref("MedicationRequest", r) for r in requests], mitigation=mitigation))
    return issues


def _rejection(review: PrescriptionReviewed, submitted: PrescriptionSubmitted, requests: list[str],
               pharmacist: StaffRef) -> list[Resource]:
    """Each reason the pharmacist gave for sending the prescription back (RX-06)."""
    return [build(DetectedIssue, id=derived_id("rejection", submitted.prescription_id, str(n)), status="final",
                  code=coded("rule", "RX-06", "审方不通过", "rejected by the pharmacist's review"), severity="high",
                  patient=ref("Patient", submitted.prescription.patient.patient_id),
                  identifiedDateTime=review.reviewed_at, author=practitioner_ref(pharmacist), detail=reason,
                  implicated=[ref("MedicationRequest", r) for r in requests])
            for n, reason in enumerate(review.reasons)]


def _provenance(submitted: PrescriptionSubmitted, requests: list[str], doctor: StaffRef, *,
                pharmacist: StaffRef | None = None, decision: str = "", review_jws: str = "",
                reviewed_at: datetime | None = None) -> Resource:
    """Who signed what: the doctor's JWS over the document (RX-05), then the pharmacist's over the review."""
    issued = submitted.issued_at
    agents = [{"type": {"coding": [{"system": PROVENANCE_ROLE, "code": "author"}]}, "who": practitioner_ref(doctor)}]
    signatures = [signature(AUTHOR_SIGNATURE, issued, doctor, submitted.doctor_jws)]
    if pharmacist is not None:
        agents.append({"type": {"coding": [{"system": PROVENANCE_ROLE, "code": "verifier"}]},
                       "who": practitioner_ref(pharmacist)})
        signatures.append(signature(REVIEW_SIGNATURE[decision], reviewed_at, pharmacist, review_jws))
    return build(Provenance, id=derived_id("provenance", submitted.prescription_id),
                 target=[ref("MedicationRequest", r) for r in requests], recorded=reviewed_at or issued,
                 agent=agents, signature=signatures)


def _ordering(submitted: PrescriptionSubmitted, *people: StaffRef) -> tuple[After, ...]:
    """Behind the Practitioners and the visit's Encounter the resources reference."""
    return (*(After("staff", p.staff_id) for p in people), After("visit", submitted.visit_id))


def submitted(event: EventView[PrescriptionSubmitted], ctx: MapContext) -> Mapped:
    """The doctor signed: draft requests, the findings the pharmacist will see, the doctor's signature."""
    p = event.data
    doctor = ctx.staff(staff_id=p.doctor_staff_id)
    if not p.doctor_jws:
        raise MappingFailed("prescription.submitted carries no doctor_jws (RX-05)")
    ids = request_ids(p.prescription_id, p.prescription.items)
    findings = _findings(p, p.findings, ids)
    requests = _requests(p, ctx, "draft", issues=[str(f.id) for f in findings])
    person = patient(ctx.patient(patient_id=p.prescription.patient.patient_id))
    provenance = _provenance(p, ids, doctor)
    return entries(person, *requests, *findings, provenance, after=_ordering(p, doctor))


def reviewed(event: EventView[PrescriptionReviewed], ctx: MapContext) -> Mapped:
    """The pharmacist decided (RX-06): the requests active or cancelled, the findings final, and for a rejection
    the reasons; the Provenance now carries both signatures."""
    p = event.data
    decision = event.event_type.rsplit(".", 1)[-1]  # approved | rejected
    document = _submitted(p.prescription_id, ctx)
    doctor = ctx.staff(staff_id=document.doctor_staff_id)
    pharmacist = ctx.staff(staff_id=p.pharmacist_staff_id)
    ids = request_ids(p.prescription_id, document.prescription.items)
    findings = _findings(document, p.findings, ids, reviewer=pharmacist, decision=decision, reviewed_at=p.reviewed_at)
    rejection = _rejection(p, document, ids, pharmacist) if decision == "rejected" else []
    requests = _requests(document, ctx, "active" if decision == "approved" else "cancelled",
                         issues=[str(i.id) for i in (*findings, *rejection)], status_reason="；".join(p.reasons))
    person = patient(ctx.patient(patient_id=document.prescription.patient.patient_id))
    provenance = _provenance(document, ids, doctor, pharmacist=pharmacist, decision=decision,
                             review_jws=p.review_jws, reviewed_at=p.reviewed_at)
    return entries(person, *requests, *findings, *rejection, provenance,
                   after=_ordering(document, doctor, pharmacist))


def dispensing(event: EventView[Dispensed | DeliveryUpdated], ctx: MapContext) -> Mapped:
    """`dispensing.dispensed`, then `dispensing.delivery_updated` as it ships and arrives (RX-08): the same
    MedicationDispense per line, rewritten at each step with the courier and every step's time."""
    p = event.data
    document = _submitted(p.prescription_id, ctx)
    if isinstance(p, Dispensed):
        first = p
        steps: list[tuple[str, datetime, str]] = [(p.status, p.dispensed_at, "")]
        tracking, kind = None, p.courier_kind
    else:
        first = ctx.earlier(DISPENSED, p.dispensing_id, Dispensed)
        steps = [(s.status, s.at, s.note) for s in p.history] or [(p.status, first.dispensed_at, "")]
        tracking, kind = p.tracking_number, p.courier_kind
    pharmacist = ctx.staff(user_id=first.pharmacist_user_id)
    at = {status: moment for status, moment, _ in steps}
    courier = " ".join(x for x in (p.courier_name, tracking) if x)
    notes: list[dict[str, Any]] = [{"text": f"配送 ({kind}): {courier}"}] if courier else []
    notes += [{"text": f"{status}{': ' + note if note else ''}", "time": moment} for status, moment, note in steps]
    patient_id = document.prescription.patient.patient_id
    items = document.prescription.items
    dispenses = [build(
        MedicationDispense, id=derived_id("dispense", p.dispensing_id, str(n)),
        identifier=[identifier("dispensing", p.dispensing_id)], status=DISPENSE_STATUS.get(p.status, "unknown"),
        category={"coding": [{"system": "http://terminology.hl7.org/fhir/CodeSystem/medicationdispense-category",
                              "code": "outpatient"}]},
        medicationCodeableConcept=_medication(item), subject=ref("Patient", patient_id),
        context=ref("Encounter", document.visit_id), performer=[{"actor": practitioner_ref(pharmacist)}],
        authorizingPrescription=[ref("MedicationRequest", rid)],
        quantity={"value": item.quantity_packs, "unit": PACKS},
        daysSupply={"value": item.days_supply, "unit": "d", "system": UCUM, "code": "d"},
        whenPrepared=at.get("dispensed") or first.dispensed_at,
        whenHandedOver=at.get("delivered") or at.get("collected"),  # a pick-up is handed over at the counter
        receiver=[ref("Patient", patient_id)] if "delivered" in at or "collected" in at else None,
        dosageInstruction=[_dosage(item)], note=notes or None)
        for n, (rid, item) in enumerate(zip(request_ids(p.prescription_id, items), items, strict=True))]
    person = patient(ctx.patient(patient_id=patient_id))
    # After the prescription's own events: the requests it dispenses are active on the server first.
    return entries(person, *dispenses,
                   after=(After("staff", pharmacist.staff_id), After("prescription", p.prescription_id)))


def catalogue(event: EventView[FormularyCatalogue], ctx: MapContext) -> Mapped:
    """The formulary (the codes every MedicationRequest uses): one Medication per drug; a drug the hospital never
    prescribes online (controlled, RX-02) is inactive."""
    drugs = event.data.drugs
    if not drugs:
        raise MappingFailed("formulary.catalogue lists no drugs")
    medications = []
    for d in drugs:
        per_unit = {"value": 1, "unit": d.dispensing_unit}
        medications.append(build(
            Medication, id=derived_id("medication", d.code),
            code={"coding": [{"system": "urn:hospital:formulary", "code": d.code, "display": d.name_zh}],
                  "text": f"{d.name_zh} {d.strength} {d.strength_unit}"},
            status="active" if d.in_use else "inactive",
            form={"text": d.form} if d.form else None,
            manufacturer={"display": d.manufacturer} if d.manufacturer else None,
            amount={"numerator": {"value": d.pack_size, "unit": d.dispensing_unit},
                    "denominator": {"value": 1, "unit": PACKS}},
            ingredient=[{"itemCodeableConcept": {"text": d.generic_name or d.name_zh},
                         "strength": {"numerator": {"value": Decimal(d.strength), "unit": d.strength_unit},
                                      "denominator": per_unit}}]))
    return entries(*medications)


FHIR_MAPPERS: dict[str, Mapper] = {
    "formulary.catalogue": catalogue,
    "prescription.submitted": submitted,
    "prescription.approved": reviewed,
    "prescription.rejected": reviewed,
    "prescription.verified": not_reported("the review's Provenance (verification signature) carries it"),
    "prescription.warnings_overridden": not_reported("the approved review's DetectedIssues carry the overridden "
                                                     "warnings (mitigation: approved by the pharmacist)"),
    "prescription.voided": not_reported("a prescription voided before any pharmacist's decision never took "
                                        "effect; the visit's end is sent as its Encounter"),
    "dispensing.dispensed": dispensing,
    "dispensing.delivery_updated": dispensing,
}
