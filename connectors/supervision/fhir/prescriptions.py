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

from collections.abc import Mapping
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
DISPENSE_STATUS = {"dispensed": "in-progress", "shipped": "in-progress", "delivered": "completed"}
DECIDED = {"approved": "approved by the pharmacist's review (RX-06)",
           "rejected": "rejected by the pharmacist's review and sent back to the doctor (RX-06)"}


def request_ids(prescription_id: str, items: list[Any]) -> list[str]:
    """One MedicationRequest per line, the same ids at every stage (draft, active, cancelled)."""
    return [derived_id("rx", prescription_id, str(index)) for index in range(len(items))]


def _submitted(event: EventView, ctx: MapContext) -> Mapping[str, Any]:
    if event.event_type == SUBMITTED:
        return event.payload
    return ctx.earlier(SUBMITTED, event.require("prescription_id"))


def _medication(item: Mapping[str, Any]) -> dict[str, Any]:
    name = str(item.get("name_zh") or item["drug_code"])
    return {"coding": [{"system": "urn:hospital:formulary", "code": str(item["drug_code"]), "display": name}],
            "text": f"{name} {item.get('strength', '')}, {item.get('pack', '')}".strip(" ,")}


def _dosage(item: Mapping[str, Any]) -> dict[str, Any]:
    """The doctor's instruction as written, and as numbers: dose per time, times per `interval_days` days."""
    unit = str(item.get("dose_unit") or "")
    dose: dict[str, Any] = {"value": Decimal(str(item["dose_per_time"])), "unit": unit}
    if unit in DOSE_UNITS:
        dose.update(system=UCUM, code=DOSE_UNITS[unit])
    times, every = int(item.get("times_per_day") or 0), int(item.get("interval_days") or 1)
    usage = str(item.get("usage") or "").strip()
    route = usage.replace(",", "，").split("，", 1)[0].strip()  # "口服，每日早晨" → 口服, as the gateway's admission
    schedule = f"每{'' if every == 1 else f' {every} '}日 {times} 次" if times else ""
    text = "；".join(t for t in (usage, f"每次 {item['dose_per_time']} {unit}", schedule) if t)
    return {"text": text, "route": {"text": route} if route else None,
            "timing": {"repeat": {"frequency": times, "period": every, "periodUnit": "d"}} if times else None,
            "doseAndRate": [{"doseQuantity": dose}]}


def _requests(submitted: Mapping[str, Any], ctx: MapContext, status: str, *, issues: list[str],
              status_reason: str = "") -> list[Resource]:
    prescription_id = str(submitted["prescription_id"])
    document = dict(submitted["prescription"])
    items = [dict(i) for i in document["items"]]
    doctor = ctx.staff(staff_id=submitted["doctor_staff_id"])
    patient_id = str(document["patient"]["patient_id"])
    reasons = [diagnosis(str(d["icd10"]), str(d.get("name", ""))) for d in document.get("diagnoses") or []]
    issued = ctx.moment(submitted.get("issued_at") or document["issued_at"])
    number = str(submitted.get("prescription_number") or document.get("prescription_number") or "")
    resources = []
    for rid, item in zip(request_ids(prescription_id, items), items, strict=True):
        supply = {"value": int(item["days_supply"]), "unit": "d", "system": UCUM, "code": "d"}
        resources.append(build(
            MedicationRequest, id=rid, identifier=[identifier("prescription-number", number)] if number else None,
            status=status, statusReason={"text": status_reason} if status_reason else None, intent="order",
            category=[OUTPATIENT], groupIdentifier=identifier("prescription", prescription_id),
            medicationCodeableConcept=_medication(item), subject=ref("Patient", patient_id),
            encounter=ref("Encounter", str(submitted["visit_id"])), authoredOn=issued,
            requester=practitioner_ref(doctor), reasonCode=reasons or None,
            note=[{"text": str(document["long_prescription_reason"])}] if document.get("long_prescription_reason") else None,
            dosageInstruction=[_dosage(item)], detectedIssue=[ref("DetectedIssue", i) for i in issues] or None,
            dispenseRequest={"validityPeriod": {"start": issued, "end": submitted.get("valid_until")
                                                or document.get("valid_until")},
                             "quantity": {"value": int(item["quantity_packs"]), "unit": PACKS},
                             "expectedSupplyDuration": supply, "numberOfRepeatsAllowed": 0}))
    return resources


def _findings(submitted: Mapping[str, Any], findings: list[Mapping[str, Any]], requests: list[str], *,
              reviewer: StaffRef | None = None, decision: str = "", reviewed_at: Any = None,
              ctx: MapContext) -> list[Resource]:
    """The rule findings kept at signing (warnings and notes the pharmacist must see, RX-03/RX-04): preliminary
    until the pharmacist decides, then final with what was decided as their mitigation."""
    prescription_id = str(submitted["prescription_id"])
    patient_id = str(submitted["prescription"]["patient"]["patient_id"])
    identified = ctx.moment(submitted.get("issued_at"))
    issues = []
    for n, finding in enumerate(findings):
        mitigation = None
        if reviewer is not None:
            mitigation = [{"action": {"text": DECIDED.get(decision, decision)}, "date": ctx.moment(reviewed_at),
                           "author": practitioner_ref(reviewer)}]
        issues.append(build(
            DetectedIssue, id=derived_id("finding", prescription_id, str(n)),
            status="final" if reviewer is not None else "preliminary",
            code=coded("rule", str(finding.get("rule_id", "")), text=str(finding.get("category") or finding.get("rule_id"))),
            severity=SEVERITY.get(str(finding.get("severity", "")).lower()), patient=ref("Patient", patient_id),
            identifiedDateTime=identified, detail=str(finding.get("message", "")) or None,
            implicated=[ref("MedicationRequest", r) for r in requests], mitigation=mitigation))
    return issues


def _rejection(event: EventView, ctx: MapContext, submitted: Mapping[str, Any], requests: list[str],
               pharmacist: StaffRef) -> list[Resource]:
    """Each reason the pharmacist gave for sending the prescription back (RX-06)."""
    prescription_id = str(submitted["prescription_id"])
    patient_id = str(submitted["prescription"]["patient"]["patient_id"])
    return [build(DetectedIssue, id=derived_id("rejection", prescription_id, str(n)), status="final",
                  code=coded("rule", "RX-06", "审方不通过", "rejected by the pharmacist's review"), severity="high",
                  patient=ref("Patient", patient_id), identifiedDateTime=ctx.moment(event.require("reviewed_at")),
                  author=practitioner_ref(pharmacist), detail=str(reason),
                  implicated=[ref("MedicationRequest", r) for r in requests])
            for n, reason in enumerate(event.get("reasons") or [])]


def _provenance(submitted: Mapping[str, Any], ctx: MapContext, requests: list[str], doctor: StaffRef, *,
                pharmacist: StaffRef | None = None, decision: str = "", review_jws: str = "",
                reviewed_at: Any = None) -> Resource:
    """Who signed what: the doctor's JWS over the document (RX-05), then the pharmacist's over the review."""
    issued = ctx.moment(submitted["issued_at"])
    agents = [{"type": {"coding": [{"system": PROVENANCE_ROLE, "code": "author"}]}, "who": practitioner_ref(doctor)}]
    signatures = [signature(AUTHOR_SIGNATURE, issued, doctor, str(submitted.get("doctor_jws") or ""))]
    if pharmacist is not None:
        agents.append({"type": {"coding": [{"system": PROVENANCE_ROLE, "code": "verifier"}]},
                       "who": practitioner_ref(pharmacist)})
        signatures.append(signature(REVIEW_SIGNATURE[decision], ctx.moment(reviewed_at), pharmacist, review_jws))
    return build(Provenance, id=derived_id("provenance", str(submitted["prescription_id"])),
                 target=[ref("MedicationRequest", r) for r in requests], recorded=ctx.moment(reviewed_at) or issued,
                 agent=agents, signature=signatures)


def _ordering(submitted: Mapping[str, Any], *people: StaffRef) -> tuple[After, ...]:
    """Behind the Practitioners and the visit's Encounter the resources reference."""
    return (*(After("staff", p.staff_id) for p in people), After("visit", str(submitted["visit_id"])))


def submitted(event: EventView, ctx: MapContext) -> Mapped:
    """The doctor signed: draft requests, the findings the pharmacist will see, the doctor's signature."""
    document = dict(event.require("prescription"))
    prescription_id = str(event.require("prescription_id"))
    doctor = ctx.staff(staff_id=event.require("doctor_staff_id"))
    if not event.get("doctor_jws"):
        raise MappingFailed("prescription.submitted carries no doctor_jws (RX-05)")
    ids = request_ids(prescription_id, list(document["items"]))
    findings = _findings(event.payload, list(event.get("findings") or []), ids, ctx=ctx)
    requests = _requests(event.payload, ctx, "draft", issues=[str(f.id) for f in findings])
    person = patient(ctx.patient(patient_id=document["patient"]["patient_id"]))
    provenance = _provenance(event.payload, ctx, ids, doctor)
    return entries(person, *requests, *findings, provenance, after=_ordering(event.payload, doctor))


def reviewed(event: EventView, ctx: MapContext) -> Mapped:
    """The pharmacist decided (RX-06): the requests active or cancelled, the findings final, and for a rejection
    the reasons; the Provenance now carries both signatures."""
    decision = event.event_type.rsplit(".", 1)[-1]  # approved | rejected
    document = _submitted(event, ctx)
    prescription_id = str(event.require("prescription_id"))
    doctor = ctx.staff(staff_id=document["doctor_staff_id"])
    pharmacist = ctx.staff(staff_id=event.require("pharmacist_staff_id"))
    reviewed_at = event.require("reviewed_at")
    ids = request_ids(prescription_id, list(document["prescription"]["items"]))
    findings = _findings(document, list(event.get("findings") or []), ids, reviewer=pharmacist, decision=decision,
                         reviewed_at=reviewed_at, ctx=ctx)
    rejection = _rejection(event, ctx, document, ids, pharmacist) if decision == "rejected" else []
    reasons = "；".join(str(r) for r in event.get("reasons") or [])
    requests = _requests(document, ctx, "active" if decision == "approved" else "cancelled",
                         issues=[str(i.id) for i in (*findings, *rejection)], status_reason=reasons)
    person = patient(ctx.patient(patient_id=document["prescription"]["patient"]["patient_id"]))
    provenance = _provenance(document, ctx, ids, doctor, pharmacist=pharmacist, decision=decision,
                             review_jws=str(event.require("review_jws")), reviewed_at=reviewed_at)
    return entries(person, *requests, *findings, *rejection, provenance,
                   after=_ordering(document, doctor, pharmacist))


def dispensing(event: EventView, ctx: MapContext) -> Mapped:
    """`dispensing.dispensed`, then `dispensing.delivery_updated` as it ships and arrives (RX-08): the same
    MedicationDispense per line, rewritten at each step with the courier and every step's time."""
    p = event.payload
    dispensing_id = str(event.require("dispensing_id"))
    prescription_id = str(event.require("prescription_id"))
    document = _submitted(event, ctx)
    first = p if event.event_type == DISPENSED else ctx.earlier(DISPENSED, dispensing_id)
    pharmacist = ctx.staff(user_id=first["pharmacist_user_id"])
    status = str(event.require("status"))
    steps = [dict(s) for s in p.get("history") or []] or [{"status": status, "at": first.get("dispensed_at")}]
    at = {str(s["status"]): ctx.moment(s.get("at")) for s in steps}
    courier = " ".join(str(x) for x in (p.get("courier_name"), p.get("tracking_number")) if x)
    notes: list[dict[str, Any]] = [{"text": f"配送 ({p.get('courier_kind', '')}): {courier}"}] if courier else []
    notes += [{"text": f"{s['status']}{': ' + str(s['note']) if s.get('note') else ''}", "time": at[str(s["status"])]}
              for s in steps]
    patient_id = str(document["prescription"]["patient"]["patient_id"])
    items = [dict(i) for i in document["prescription"]["items"]]
    dispenses = [build(
        MedicationDispense, id=derived_id("dispense", dispensing_id, str(n)),
        identifier=[identifier("dispensing", dispensing_id)], status=DISPENSE_STATUS.get(status, "unknown"),
        category={"coding": [{"system": "http://terminology.hl7.org/fhir/CodeSystem/medicationdispense-category",
                              "code": "outpatient"}]},
        medicationCodeableConcept=_medication(item), subject=ref("Patient", patient_id),
        context=ref("Encounter", str(document["visit_id"])), performer=[{"actor": practitioner_ref(pharmacist)}],
        authorizingPrescription=[ref("MedicationRequest", rid)],
        quantity={"value": int(item["quantity_packs"]), "unit": PACKS},
        daysSupply={"value": int(item["days_supply"]), "unit": "d", "system": UCUM, "code": "d"},
        whenPrepared=at.get("dispensed") or ctx.moment(first.get("dispensed_at")),
        whenHandedOver=at.get("delivered"),
        receiver=[ref("Patient", patient_id)] if "delivered" in at else None,
        dosageInstruction=[_dosage(item)], note=notes or None)
        for n, (rid, item) in enumerate(zip(request_ids(prescription_id, items), items, strict=True))]
    person = patient(ctx.patient(patient_id=patient_id))
    # After the prescription's own events: the requests it dispenses are active on the server first.
    return entries(person, *dispenses, after=(After("staff", pharmacist.staff_id), After("prescription", prescription_id)))


def catalogue(event: EventView, ctx: MapContext) -> Mapped:
    """The formulary (the codes every MedicationRequest uses): one Medication per drug; a drug the hospital never
    prescribes online (controlled, RX-02) is inactive."""
    drugs = event.require("drugs")
    if not drugs:
        raise MappingFailed("formulary.catalogue lists no drugs")
    medications = []
    for d in drugs:
        per_unit = {"value": 1, "unit": str(d["dispensing_unit"])}
        medications.append(build(
            Medication, id=derived_id("medication", str(d["code"])),
            code={"coding": [{"system": "urn:hospital:formulary", "code": str(d["code"]), "display": d["name_zh"]}],
                  "text": f"{d['name_zh']} {d['strength']} {d['strength_unit']}"},
            status="active" if d.get("in_use", True) else "inactive",
            form={"text": str(d["form"])} if d.get("form") else None,
            manufacturer={"display": str(d["manufacturer"])} if d.get("manufacturer") else None,
            amount={"numerator": {"value": int(d["pack_size"]), "unit": str(d["dispensing_unit"])},
                    "denominator": {"value": 1, "unit": PACKS}},
            ingredient=[{"itemCodeableConcept": {"text": str(d.get("generic_name") or d["name_zh"])},
                         "strength": {"numerator": {"value": Decimal(str(d["strength"])), "unit": str(d["strength_unit"])},
                                      "denominator": per_unit}}]))
    return entries(*medications)


FHIR_MAPPERS: dict[str, Mapper] = {
    "formulary.catalogue": catalogue,
    "prescription.submitted": submitted,
    "prescription.approved": reviewed,
    "prescription.rejected": reviewed,
    "dispensing.dispensed": dispensing,
    "dispensing.delivery_updated": dispensing,
}
