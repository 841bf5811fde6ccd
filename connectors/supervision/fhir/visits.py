"""FHIR for visits. Every visit event carries the whole revisit record as it stands (hospital/visits/payloads.py
`revisit_record`), so each sends the same picture at its stage: the Patient, the Encounter (status by event), the
prior diagnosis the visit continues as a Condition with its uploaded document as DocumentReference (REV-01/02),
this visit's diagnosis once the EMR is signed, a guardian as RelatedPerson, and on a termination the offline
referral as ServiceRequest (REV-04). The signed EMR is a DocumentReference with the doctor's signature in a
Provenance (REC-01, RX-05)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.provenance import Provenance
from fhir.resources.R4B.relatedperson import RelatedPerson
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest

from connectors.supervision.fhir.resources import (
    ID_NUMBER_SYSTEM,
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
from connectors.supervision.mapping.base import After, EventView, MapContext, Mapped, Mapper, StaffRef

__all__ = ["FHIR_MAPPERS", "prior_ids"]

VIRTUAL = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR", "display": "virtual"}
# A withdrawn visit never took place (cancelled: "ended before it has begun"); one the doctor terminated was
# answered and ended, the reason and the referral say how (REV-04).
STATUS = {"visit.booked": "planned", "visit.accepted": "in-progress", "visit.completed": "finished",
          "visit.terminated": "finished", "visit.cancelled": "cancelled"}
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
GUARDIAN = {"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "GUARD", "display": "guardian"}
OTHER_FACILITY = {"system": "http://terminology.hl7.org/CodeSystem/discharge-disposition", "code": "other-hcf",
                  "display": "Other healthcare facility"}
REFERRAL = {"system": "http://snomed.info/sct", "code": "3457005", "display": "Patient referral"}
OUTPATIENT_NOTE = {"system": "http://loinc.org", "code": "34108-1", "display": "Outpatient Note"}
AUTHOR_SIGNATURE = ("1.2.840.10065.1.12.1.1", "Author's Signature")
# The EMR fields that make up the outpatient record (REC-01), sent as its JSON attachment.
EMR_FIELDS = ("visited_at", "chief_complaint", "present_illness", "past_history", "allergy_history",
              "examination_findings", "diagnosis_icd10", "diagnosis_name", "treatment_advice")


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def prior_ids(prior: Mapping[str, Any]) -> tuple[str, str]:
    """The ids of the prior diagnosis's Condition and of its document's DocumentReference: one per prior
    diagnosis on file, however many visits it founds."""
    prior_id = str(prior["prior_diagnosis_id"])
    return prior_id, derived_id("prior-document", prior_id)


def _prior(prior: Mapping[str, Any], patient_id: str) -> list[Resource]:
    """The offline diagnosis the revisit continues (REV-01) and the document the patient uploaded for it."""
    condition_id, document_id = prior_ids(prior)
    where = f"{prior.get('institution', '')}, {prior.get('diagnosed_on', '')}"
    document = build(
        DocumentReference, id=document_id, status="current", subject=ref("Patient", patient_id),
        identifier=[identifier("blob-sha256", str(prior["document_sha256"]))],  # the upload, by its content
        type=coded("document-type", str(prior.get("document_type") or "prior_diagnosis")),
        description=f"{prior.get('name', '')} ({where})",
        content=[{"attachment": {"title": f"{prior.get('name', '')} ({where})", "creation": prior.get("diagnosed_on")}}])
    condition = build(
        Condition, id=condition_id, subject=ref("Patient", patient_id),
        code=diagnosis(str(prior["icd10_code"]), str(prior.get("name", ""))),
        clinicalStatus=_concept(CLINICAL, "active"), verificationStatus=_concept(VERIFICATION, "confirmed"),
        category=[_concept(CATEGORY, "problem-list-item")], recordedDate=prior.get("diagnosed_on"),
        note=[{"text": f"diagnosed offline at {where} (REV-01)"}],
        evidence=[{"detail": [ref("DocumentReference", document_id)]}])
    return [document, condition]


def _present(p: Mapping[str, Any], visit_id: str, patient_id: str, doctor: StaffRef) -> Resource | None:
    """This visit's diagnosis: the one the doctor signed in the EMR (present_diagnosis), with the EMR as evidence."""
    present = p.get("present_diagnosis")
    if not present:
        return None
    record = p.get("medical_record_id")
    return build(Condition, id=derived_id("diagnosis", visit_id), subject=ref("Patient", patient_id),
                 encounter=ref("Encounter", visit_id), asserter=practitioner_ref(doctor),
                 code=diagnosis(str(present["icd10_code"]), str(present.get("name", ""))),
                 clinicalStatus=_concept(CLINICAL, "active"), verificationStatus=_concept(VERIFICATION, "confirmed"),
                 category=[_concept(CATEGORY, "encounter-diagnosis")],
                 evidence=[{"detail": [ref("DocumentReference", str(record))]}] if record else None)


def _suspected(p: Mapping[str, Any], visit_id: str, patient_id: str, doctor: StaffRef) -> Resource | None:
    """A suspected infectious disease the doctor flagged on terminating (REV-04), provisional until reported."""
    flag = p.get("infectious") or {}
    if not flag.get("icd10_code"):
        return None
    return build(Condition, id=derived_id("suspected", visit_id), subject=ref("Patient", patient_id),
                 encounter=ref("Encounter", visit_id), asserter=practitioner_ref(doctor),
                 code=diagnosis(str(flag["icd10_code"]), str(flag.get("disease_zh") or "")),
                 verificationStatus=_concept(VERIFICATION, "provisional"),
                 category=[_concept(CATEGORY, "encounter-diagnosis")],
                 note=[{"text": str(flag["note"])}] if flag.get("note") else None)


def _guardian(p: Mapping[str, Any], visit_id: str, patient_id: str) -> Resource | None:
    """The guardian who accompanies a minor in this visit (the platform's guardian fields)."""
    guardian = p.get("guardian")
    if not guardian:
        return None
    return build(RelatedPerson, id=derived_id("guardian", visit_id), patient=ref("Patient", patient_id),
                 identifier=[{"system": ID_NUMBER_SYSTEM, "value": guardian["id_number"]}]
                 if guardian.get("id_number") else None,
                 relationship=[{"coding": [GUARDIAN], "text": guardian.get("relationship") or None}],
                 name=[{"text": guardian.get("name", "")}],
                 telecom=[{"system": "phone", "value": guardian["mobile"]}] if guardian.get("mobile") else None)


def _referral(p: Mapping[str, Any], ctx: MapContext, visit_id: str, patient_id: str, doctor: StaffRef
              ) -> Resource | None:
    """Where the doctor who ended the visit sends the patient offline, and why (REV-04)."""
    referral = p.get("referral")
    if not referral:
        return None
    reason = str(p.get("termination_reason") or "")
    return build(ServiceRequest, id=derived_id("referral", visit_id), status="active", intent="order",
                 category=[{"coding": [REFERRAL]}], code=coded("referral", "offline_visit", "线下就诊"),
                 priority="urgent" if referral.get("urgent") else "routine", subject=ref("Patient", patient_id),
                 encounter=ref("Encounter", visit_id), requester=practitioner_ref(doctor),
                 authoredOn=ctx.moment(p.get("ended_at")),
                 performer=[{"display": str(referral["institution"])}],
                 performerType={"text": referral["department"]} if referral.get("department") else None,
                 reasonCode=[coded("termination-reason", reason)] if reason else None,
                 note=[{"text": str(referral["advice"])}] if referral.get("advice") else None)


def _status_history(p: Mapping[str, Any], ctx: MapContext) -> list[dict[str, Any]]:
    """When the visit was waiting (booked → answered) and under way (answered → ended)."""
    booked, accepted, ended = (ctx.moment(p.get(k)) for k in ("booked_at", "accepted_at", "ended_at"))
    spans = [("planned", booked, accepted or ended), ("in-progress", accepted, ended)]
    return [{"status": status, "period": {"start": start, **({"end": end} if end else {})}}
            for status, start, end in spans if start]


def _encounter(event: EventView, ctx: MapContext, doctor: StaffRef, *, conditions: list[str], prior_id: str,
               guardian: Resource | None) -> Resource:
    p = event.payload
    visit_id = str(event.require("visit_id"))
    status = STATUS[event.event_type]
    start = p.get("started_at") or p.get("accepted_at") or p.get("scheduled_start")
    end = p.get("ended_at") or (p.get("scheduled_end") if status == "planned" else None)
    period = {k: v for k, v in (("start", ctx.moment(start)), ("end", ctx.moment(end))) if v}
    participants = [{"type": [_concept(PARTICIPATION, "PPRF")], "individual": practitioner_ref(doctor)}]
    if guardian is not None:
        participants.append({"type": [_concept(PARTICIPATION, "ESC")], "individual": ref("RelatedPerson", str(guardian.id))})
    reason = str(p.get("termination_reason") or "")
    disposition = None
    if event.event_type == "visit.terminated" and reason:
        disposition = {"text": reason, **({"coding": [OTHER_FACILITY]} if p.get("referral") else {})}
    department = str(p.get("department_code") or "")
    return build(
        Encounter, id=visit_id, identifier=[identifier("visit", visit_id)], status=status, class_fhir=VIRTUAL,
        type=[coded("visit-type", "revisit", "复诊"), *([coded("visit-mode", str(p["mode"]))] if p.get("mode") else [])],
        subject=ref("Patient", str(event.require("patient_id"))), participant=participants, period=period or None,
        statusHistory=_status_history(p, ctx) or None,
        serviceType=coded("department", department, str(p.get("department_name") or "")) if department else None,
        serviceProvider=ref("Organization", ctx.organ_id), reasonReference=[ref("Condition", prior_id)],
        diagnosis=[{"condition": ref("Condition", c), "rank": i + 1} for i, c in enumerate(conditions)],
        hospitalization={"dischargeDisposition": disposition} if disposition else None)


def visit(event: EventView, ctx: MapContext) -> Mapped:
    """Any visit event: the revisit record as it stands, as resources (booked, accepted, cancelled, ended)."""
    p = event.payload
    visit_id = str(event.require("visit_id"))
    person = ctx.patient(patient_id=event.require("patient_id"))
    doctor = ctx.staff(user_id=event.require("doctor_user_id"))
    prior = dict(event.require("prior_diagnosis"))
    prior_id, _ = prior_ids(prior)
    present = _present(p, visit_id, person.patient_id, doctor)
    suspected = _suspected(p, visit_id, person.patient_id, doctor)
    guardian = _guardian(p, visit_id, person.patient_id)
    conditions = [c.id for c in (present, suspected) if c is not None] + [prior_id]
    encounter = _encounter(event, ctx, doctor, conditions=[str(c) for c in conditions], prior_id=prior_id,
                           guardian=guardian)
    referral = _referral(p, ctx, visit_id, person.patient_id, doctor)
    resources = [patient(person), *_prior(prior, person.patient_id),
                 *(r for r in (guardian, encounter, present, suspected, referral) if r is not None)]
    after = [After("staff", doctor.staff_id)]
    if present is not None and p.get("medical_record_id"):  # the Condition's evidence is the signed EMR
        after.append(After("medical_record", str(p["medical_record_id"])))
    return entries(*resources, after=tuple(after))


def emr_signed(event: EventView, ctx: MapContext) -> Mapped:
    """The signed outpatient record (hospital/visits/payloads.py `emr_record`) and the doctor's signature."""
    p = event.payload
    record_id = str(event.require("medical_record_id"))
    visit_id = str(event.require("visit_id"))
    doctor = ctx.staff(user_id=event.require("signed_by_user_id"))
    signed_at = ctx.moment(event.require("signed_at"))
    content = {k: p.get(k) for k in EMR_FIELDS}
    data = base64.b64encode(json.dumps(content, ensure_ascii=False).encode("utf-8")).decode("ascii")
    # The Patient by id (the visit events filed it first); an older event without `patient_id` names the patient
    # by ID number instead, a logical reference FHIR allows.
    if p.get("patient_id"):
        subject: dict[str, Any] = ref("Patient", str(p["patient_id"]), str(p.get("patient_name") or ""))
    else:
        subject = {"identifier": {"system": ID_NUMBER_SYSTEM, "value": str(event.require("patient_id_number"))},
                   "display": p.get("patient_name") or None}
    note = build(DocumentReference, id=record_id, identifier=[identifier("medical-record", record_id)],
                 status="current", docStatus="final", type={"coding": [OUTPATIENT_NOTE], "text": "门诊病历"},
                 subject={k: v for k, v in subject.items() if v}, date=signed_at, author=[practitioner_ref(doctor)],
                 authenticator=practitioner_ref(doctor), custodian=ref("Organization", ctx.organ_id),
                 description=f"{p.get('diagnosis_icd10', '')} {p.get('diagnosis_name', '')}".strip() or None,
                 content=[{"attachment": {"contentType": "application/json", "language": "zh-CN", "data": data,
                                          "title": "门诊病历", "creation": signed_at}}],
                 context={"encounter": [ref("Encounter", visit_id)]})
    provenance = build(Provenance, id=derived_id("provenance", "emr", record_id),
                       target=[ref("DocumentReference", record_id)], recorded=signed_at,
                       agent=[{"type": _concept("http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                                "author"), "who": practitioner_ref(doctor)}],
                       signature=[signature(AUTHOR_SIGNATURE, signed_at, doctor, str(event.require("signature")))])
    return entries(note, provenance, after=(After("staff", doctor.staff_id), After("visit", visit_id)))


FHIR_MAPPERS: dict[str, Mapper] = {
    "visit.booked": visit,
    "visit.accepted": visit,
    "visit.cancelled": visit,
    "visit.completed": visit,
    "visit.terminated": visit,
    "emr.signed": emr_signed,
}
