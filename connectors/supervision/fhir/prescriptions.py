"""FHIR for prescriptions: MedicationRequest (one per item, grouped by the prescription) as a draft when
submitted and active on approval, with a Provenance carrying both signatures (RX-05: the doctor's and the
reviewing pharmacist's); review findings as DetectedIssue (RX-06, REV-05)."""

from __future__ import annotations

import base64
from typing import Any

from fhir.resources.R4B.detectedissue import DetectedIssue
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.provenance import Provenance
from fhir.resources.R4B.resource import Resource

from connectors.supervision.fhir.resources import build, derived_id, entries, identifier, patient, practitioner_ref, ref
from connectors.supervision.fhir.visits import ICD10
from connectors.supervision.mapping.base import After, EventView, MapContext, Mapped, Mapper, NotReported

__all__ = ["FHIR_MAPPERS"]

UCUM = "http://unitsofmeasure.org"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
AUTHOR_SIGNATURE = {"system": SIGNATURE_TYPE, "code": "1.2.840.10065.1.12.1.1", "display": "Author's Signature"}
VERIFY_SIGNATURE = {"system": SIGNATURE_TYPE, "code": "1.2.840.10065.1.12.1.5", "display": "Verification Signature"}
PROVENANCE_ROLE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SEVERITY = {"block": "high", "warn": "moderate", "info": "low"}


def request_ids(prescription_id: str, items: list[Any]) -> list[str]:
    return [derived_id("rx", prescription_id, str(index)) for index in range(len(items))]


def _requests(event: EventView, ctx: MapContext, status: str) -> tuple[list[Resource], list[str]]:
    p = event.payload
    prescription_id = str(event.require("prescription_id"))
    items = [dict(i) for i in event.require("items")]
    doctor = ctx.staff(user_id=event.require("doctor_user_id"))
    reasons = [{"coding": [{"system": ICD10, "code": d.get("icd10_code"), "display": d.get("name")}]}
               for d in p.get("diagnoses") or []]
    ids = request_ids(prescription_id, items)
    resources: list[Resource] = []
    for rid, item in zip(ids, items, strict=True):
        resources.append(build(
            MedicationRequest, id=rid, status=status, intent="order",
            groupIdentifier=identifier("prescription", prescription_id),
            medicationCodeableConcept={"coding": [{"system": "urn:hospital:formulary", "code": item["drug_code"],
                                                   "display": item.get("drug_name")}], "text": item.get("drug_name")},
            subject=ref("Patient", str(event.require("patient_id"))), encounter=ref("Encounter", str(p["visit_id"])),
            authoredOn=ctx.moment(event.require("issued_at")), requester=practitioner_ref(doctor),
            reasonCode=reasons or None,
            dosageInstruction=[{"text": f"{item.get('dose')}{item.get('dose_unit')} {item.get('frequency')}",
                                "route": {"text": item.get("route")}, "timing": {"code": {"text": item.get("frequency")}},
                                "doseAndRate": [{"doseQuantity": {"value": item.get("dose"),
                                                                  "unit": item.get("dose_unit")}}]}],
            dispenseRequest={"quantity": {"value": item.get("quantity"), "unit": item.get("quantity_unit")},
                             "expectedSupplyDuration": {"value": item.get("days"), "unit": "d", "system": UCUM,
                                                        "code": "d"}}))
    return resources, ids


def draft(event: EventView, ctx: MapContext) -> Mapped:
    person = patient(ctx.patient(patient_id=event.require("patient_id")))
    doctor = ctx.staff(user_id=event.require("doctor_user_id"))
    requests, _ = _requests(event, ctx, "draft")
    return entries(person, *requests, after=(After("staff", doctor.staff_id),))


def approved(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    person = patient(ctx.patient(patient_id=event.require("patient_id")))
    doctor = ctx.staff(user_id=event.require("doctor_user_id"))
    pharmacist = ctx.staff(user_id=event.require("pharmacist_user_id"))
    requests, ids = _requests(event, ctx, "active")
    when = ctx.moment(p.get("approved_at") or event.created_at)
    signatures = [{"type": [AUTHOR_SIGNATURE], "when": ctx.moment(event.require("issued_at")),
                   "who": practitioner_ref(doctor), "sigFormat": "application/jose", "data": _b64(p.get("signature"))}]
    if p.get("review_signature"):
        signatures.append({"type": [VERIFY_SIGNATURE], "when": when, "who": practitioner_ref(pharmacist),
                           "sigFormat": "application/jose", "data": _b64(p["review_signature"])})
    provenance = build(
        Provenance, id=derived_id("provenance", str(p["prescription_id"])), target=[ref("MedicationRequest", i)
                                                                                  for i in ids],
        recorded=when, agent=[
            {"type": {"coding": [{"system": PROVENANCE_ROLE, "code": "author"}]}, "who": practitioner_ref(doctor)},
            {"type": {"coding": [{"system": PROVENANCE_ROLE, "code": "verifier"}]},
             "who": practitioner_ref(pharmacist)}],
        signature=signatures)
    after = (After("staff", doctor.staff_id), After("staff", pharmacist.staff_id))
    return entries(person, *requests, provenance, after=after)


def _b64(jws: Any) -> str | None:
    return base64.b64encode(str(jws).encode("ascii")).decode("ascii") if jws else None


def reviewed(event: EventView, ctx: MapContext) -> Mapped | NotReported:
    findings = [dict(f) for f in event.get("findings") or []]
    if not findings:
        return NotReported("a review without findings: the approval itself activates the MedicationRequest")
    pharmacist = ctx.staff(user_id=event.require("pharmacist_user_id"))
    prescription_id = str(event.require("prescription_id"))
    implicated = [ref("MedicationRequest", i) for i in request_ids(prescription_id, list(event.get("items") or [0]))]
    issues = [build(DetectedIssue, id=derived_id("issue", prescription_id, str(event.version), str(n)),
                    status="final", code={"text": f.get("rule_id")}, severity=SEVERITY.get(str(f.get("severity",
                                                                                                    "")).lower()),
                    detail=f.get("message"), author=practitioner_ref(pharmacist), implicated=implicated,
                    identifiedDateTime=ctx.moment(event.require("reviewed_at")))
              for n, f in enumerate(findings)]
    return entries(*issues, after=(After("staff", pharmacist.staff_id),))


FHIR_MAPPERS: dict[str, Mapper] = {
    "prescription.submitted": draft,
    "prescription.signed": draft,
    "prescription.approved": approved,
    "review.completed": reviewed,
    "review.approved": reviewed,
    "review.rejected": reviewed,
}
