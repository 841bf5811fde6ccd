"""FHIR for visits: Patient and Encounter; at the end, the prior diagnosis as a Condition with its document
(DocumentReference, REV-01/02) and this visit's diagnosis; the signed EMR as a DocumentReference (REC-01)."""

from __future__ import annotations

import base64
import json
from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.resource import Resource

from connectors.supervision.fhir.resources import build, derived_id, entries, identifier, patient, practitioner_ref, ref
from connectors.supervision.mapping.base import After, EventView, MapContext, Mapped, Mapper

__all__ = ["FHIR_MAPPERS", "ICD10"]

ICD10 = "http://hl7.org/fhir/sid/icd-10"
VIRTUAL = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR", "display": "virtual"}
STATUS = {"visit.booked": "planned", "visit.accepted": "in-progress", "visit.completed": "finished",
          "visit.terminated": "cancelled"}


def _diagnosis(code: str, name: str) -> dict[str, Any]:
    return {"coding": [{"system": ICD10, "code": code, "display": name or None}], "text": name or code}


def _encounter(event: EventView, ctx: MapContext, diagnoses: list[str]) -> Resource:
    p = event.payload
    visit_id = str(event.require("visit_id"))
    doctor = ctx.staff(user_id=event.require("doctor_user_id"))
    start = p.get("started_at") or p.get("accepted_at") or p.get("starts_at") or p.get("booked_at")
    period = {"start": ctx.moment(start), **({"end": ctx.moment(p["ended_at"])} if p.get("ended_at") else {})}
    return build(Encounter, id=visit_id, identifier=[identifier("visit", visit_id)], status=STATUS[event.event_type],
                 class_fhir=VIRTUAL, subject=ref("Patient", str(event.require("patient_id"))),
                 participant=[{"individual": practitioner_ref(doctor)}], period=period,
                 serviceType={"coding": [{"system": "urn:hospital:department", "code": p.get("department_code", "")}]},
                 serviceProvider=ref("Organization", ctx.organ_id),
                 diagnosis=[{"condition": ref("Condition", c), "rank": i + 1} for i, c in enumerate(diagnoses)] or None)


def encounter_only(event: EventView, ctx: MapContext) -> Mapped:
    person = patient(ctx.patient(patient_id=event.require("patient_id")))
    doctor = ctx.staff(user_id=event.require("doctor_user_id"))
    return entries(person, _encounter(event, ctx, []), after=(After("staff", doctor.staff_id),))


def ended(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    visit_id = str(event.require("visit_id"))
    person = ctx.patient(patient_id=event.require("patient_id"))
    doctor = ctx.staff(user_id=event.require("doctor_user_id"))
    prior = dict(event.require("prior_diagnosis"))
    prior_id, document_id = derived_id("prior", visit_id), derived_id("prior-document", visit_id)
    document = build(
        DocumentReference, id=document_id, status="current", subject=ref("Patient", person.patient_id),
        type={"text": prior.get("document_type") or "prior diagnosis"}, description=prior.get("institution_name"),
        identifier=[identifier("blob-sha256", str(prior["document_sha256"]))] if prior.get("document_sha256") else None,
        content=[{"attachment": {"title": f"{prior.get('name', '')} ({prior.get('institution_name', '')})",
                                 "creation": prior.get("diagnosed_on")}}],
        context={"encounter": [ref("Encounter", visit_id)]})
    prior_condition = build(
        Condition, id=prior_id, subject=ref("Patient", person.patient_id), code=_diagnosis(
            str(prior.get("icd10_code", "")), str(prior.get("name", ""))),
        clinicalStatus={"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                    "code": "active"}]},
        recordedDate=prior.get("diagnosed_on"), note=[{"text": f"diagnosed at {prior.get('institution_name', '')}"}],
        evidence=[{"detail": [ref("DocumentReference", document_id)]}])
    resources: list[Resource] = [patient(person), document, prior_condition]
    diagnoses = [prior_id]
    if p.get("diagnosis"):
        this_id = derived_id("diagnosis", visit_id)
        diagnosis = dict(p["diagnosis"])
        resources.append(build(Condition, id=this_id, subject=ref("Patient", person.patient_id),
                               encounter=ref("Encounter", visit_id), asserter=practitioner_ref(doctor),
                               code=_diagnosis(str(diagnosis.get("icd10_code", "")), str(diagnosis.get("name", "")))))
        diagnoses.insert(0, this_id)
    resources.insert(1, _encounter(event, ctx, diagnoses))
    return entries(*resources, after=(After("staff", doctor.staff_id),))


def emr_signed(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    visit_id = str(event.require("visit_id"))
    doctor = ctx.staff(user_id=event.require("doctor_user_id"))
    fields = {k: p.get(k) for k in ("chief_complaint", "present_illness", "past_history", "diagnosis")}
    data = base64.b64encode(json.dumps(fields, ensure_ascii=False).encode()).decode()
    note = build(DocumentReference, id=derived_id("emr", visit_id), status="current",
                 subject=ref("Patient", str(event.require("patient_id"))), author=[practitioner_ref(doctor)],
                 type={"text": "门诊病历 (outpatient record)"}, date=ctx.moment(p.get("signed_at") or event.created_at),
                 content=[{"attachment": {"contentType": "application/json", "data": data}}],
                 context={"encounter": [ref("Encounter", visit_id)]})
    return entries(note, after=(After("staff", doctor.staff_id),))


FHIR_MAPPERS: dict[str, Mapper] = {
    "visit.booked": encounter_only,
    "visit.accepted": encounter_only,
    "visit.completed": ended,
    "visit.terminated": ended,
    "emr.signed": emr_signed,
}
