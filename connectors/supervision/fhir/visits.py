"""FHIR for visits. Every visit event carries the whole revisit record as it stands (hospital/contracts/visits.py
`RevisitRecord`), so each sends the same picture at its stage: the Patient, the Encounter (status by event), the
prior diagnosis the visit continues as a Condition with its uploaded document as DocumentReference (REV-01/02),
this visit's diagnosis once the EMR is signed, a guardian as RelatedPerson, and on a termination the offline
referral as ServiceRequest (REV-04). The signed EMR is a DocumentReference with the doctor's signature in a
Provenance (REC-01, RX-05)."""

from __future__ import annotations

import base64
import json
from typing import Any

import msgspec
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
from connectors.supervision.mapping.base import After, EventView, MapContext, Mapped, Mapper, StaffRef, not_reported
from hospital.contracts.visits import EmrSigned, PriorDiagnosis, RevisitRecord

__all__ = ["FHIR_MAPPERS", "prior_ids"]

VIRTUAL = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR", "display": "virtual"}
# A withdrawn visit never took place (cancelled: "ended before it has begun"); one the doctor terminated was
# answered and ended, the reason and the referral say how (REV-04).
STATUS = {"visit.booked": "planned", "visit.accepted": "in-progress", "visit.started": "in-progress",
          "visit.completed": "finished",
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


def prior_ids(prior: PriorDiagnosis) -> tuple[str, str]:
    """The ids of the prior diagnosis's Condition and of its document's DocumentReference: one per prior
    diagnosis on file, however many visits it founds."""
    return prior.prior_diagnosis_id, derived_id("prior-document", prior.prior_diagnosis_id)


def _prior(prior: PriorDiagnosis, patient_id: str) -> list[Resource]:
    """The offline diagnosis the revisit continues (REV-01) and the document the patient uploaded for it."""
    condition_id, document_id = prior_ids(prior)
    where = f"{prior.institution}, {prior.diagnosed_on.isoformat()}"
    document = build(
        DocumentReference, id=document_id, status="current", subject=ref("Patient", patient_id),
        identifier=[identifier("blob-sha256", prior.document_sha256)],  # the upload, by its content
        type=coded("document-type", prior.document_type or "prior_diagnosis"),
        description=f"{prior.name} ({where})",
        content=[{"attachment": {"title": f"{prior.name} ({where})", "creation": prior.diagnosed_on}}])
    condition = build(
        Condition, id=condition_id, subject=ref("Patient", patient_id),
        code=diagnosis(prior.icd10_code, prior.name),
        clinicalStatus=_concept(CLINICAL, "active"), verificationStatus=_concept(VERIFICATION, "confirmed"),
        category=[_concept(CATEGORY, "problem-list-item")], recordedDate=prior.diagnosed_on,
        note=[{"text": f"diagnosed offline at {where} (REV-01)"}],
        evidence=[{"detail": [ref("DocumentReference", document_id)]}])
    return [document, condition]


def _present(p: RevisitRecord, doctor: StaffRef) -> Resource | None:
    """This visit's diagnosis: the one the doctor signed in the EMR (present_diagnosis), with the EMR as evidence."""
    if p.present_diagnosis is None:
        return None
    record = p.medical_record_id
    return build(Condition, id=derived_id("diagnosis", p.visit_id), subject=ref("Patient", p.patient_id),
                 encounter=ref("Encounter", p.visit_id), asserter=practitioner_ref(doctor),
                 code=diagnosis(p.present_diagnosis.icd10_code, p.present_diagnosis.name),
                 clinicalStatus=_concept(CLINICAL, "active"), verificationStatus=_concept(VERIFICATION, "confirmed"),
                 category=[_concept(CATEGORY, "encounter-diagnosis")],
                 evidence=[{"detail": [ref("DocumentReference", record)]}] if record else None)


def _suspected(p: RevisitRecord, doctor: StaffRef) -> Resource | None:
    """A suspected infectious disease the doctor flagged on terminating (REV-04), provisional until reported."""
    flag = p.infectious
    if flag is None or not flag.icd10_code:
        return None
    return build(Condition, id=derived_id("suspected", p.visit_id), subject=ref("Patient", p.patient_id),
                 encounter=ref("Encounter", p.visit_id), asserter=practitioner_ref(doctor),
                 code=diagnosis(flag.icd10_code, flag.disease_zh or ""),
                 verificationStatus=_concept(VERIFICATION, "provisional"),
                 category=[_concept(CATEGORY, "encounter-diagnosis")],
                 note=[{"text": flag.note}] if flag.note else None)


def _guardian(p: RevisitRecord) -> Resource | None:
    """The guardian who accompanies a minor in this visit (the platform's guardian fields)."""
    guardian = p.guardian
    if guardian is None:
        return None
    return build(RelatedPerson, id=derived_id("guardian", p.visit_id), patient=ref("Patient", p.patient_id),
                 identifier=[{"system": ID_NUMBER_SYSTEM, "value": guardian.id_number}] if guardian.id_number else None,
                 relationship=[{"coding": [GUARDIAN], "text": guardian.relationship or None}],
                 name=[{"text": guardian.name}],
                 telecom=[{"system": "phone", "value": guardian.mobile}] if guardian.mobile else None)


def _referral(p: RevisitRecord, ctx: MapContext, doctor: StaffRef) -> Resource | None:
    """Where the doctor who ended the visit sends the patient offline, and why (REV-04)."""
    referral = p.referral
    if referral is None:
        return None
    reason = p.termination_reason or ""
    return build(ServiceRequest, id=derived_id("referral", p.visit_id), status="active", intent="order",
                 category=[{"coding": [REFERRAL]}], code=coded("referral", "offline_visit", "线下就诊"),
                 priority="urgent" if referral.urgent else "routine", subject=ref("Patient", p.patient_id),
                 encounter=ref("Encounter", p.visit_id), requester=practitioner_ref(doctor),
                 authoredOn=p.ended_at, performer=[{"display": referral.institution}],
                 performerType={"text": referral.department} if referral.department else None,
                 reasonCode=[coded("termination-reason", reason)] if reason else None,
                 note=[{"text": referral.advice}] if referral.advice else None)


def _status_history(p: RevisitRecord) -> list[dict[str, Any]]:
    """When the visit was waiting (booked → answered) and under way (answered → ended)."""
    spans = [("planned", p.booked_at, p.accepted_at or p.ended_at), ("in-progress", p.accepted_at, p.ended_at)]
    return [{"status": status, "period": {"start": start, **({"end": end} if end else {})}}
            for status, start, end in spans if start]


def _encounter(event: EventView[RevisitRecord], ctx: MapContext, doctor: StaffRef, *, conditions: list[str],
               prior_id: str, guardian: Resource | None) -> Resource:
    p = event.data
    status = STATUS[event.event_type]
    start = p.started_at or p.accepted_at or p.scheduled_start
    end = p.ended_at or (p.scheduled_end if status == "planned" else None)
    period = {k: v for k, v in (("start", start), ("end", end)) if v}
    participants = [{"type": [_concept(PARTICIPATION, "PPRF")], "individual": practitioner_ref(doctor)}]
    if guardian is not None:
        participants.append({"type": [_concept(PARTICIPATION, "ESC")], "individual": ref("RelatedPerson", str(guardian.id))})
    reason = p.termination_reason or ""
    disposition = None
    if event.event_type == "visit.terminated" and reason:
        disposition = {"text": reason, **({"coding": [OTHER_FACILITY]} if p.referral else {})}
    return build(
        Encounter, id=p.visit_id, identifier=[identifier("visit", p.visit_id)], status=status, class_fhir=VIRTUAL,
        type=[coded("visit-type", "revisit", "复诊"), *([coded("visit-mode", p.mode)] if p.mode else [])],
        subject=ref("Patient", p.patient_id), participant=participants, period=period or None,
        statusHistory=_status_history(p) or None,
        serviceType=coded("department", p.department_code, p.department_name) if p.department_code else None,
        serviceProvider=ref("Organization", ctx.organ_id), reasonReference=[ref("Condition", prior_id)],
        diagnosis=[{"condition": ref("Condition", c), "rank": i + 1} for i, c in enumerate(conditions)],
        hospitalization={"dischargeDisposition": disposition} if disposition else None)


def visit(event: EventView[RevisitRecord], ctx: MapContext) -> Mapped:
    """Any visit event: the revisit record as it stands, as resources (booked, accepted, cancelled, ended)."""
    p = event.data
    person = ctx.patient(patient_id=p.patient_id)
    doctor = ctx.staff(user_id=p.doctor_user_id)
    prior_id, _ = prior_ids(p.prior_diagnosis)
    present = _present(p, doctor)
    suspected = _suspected(p, doctor)
    guardian = _guardian(p)
    conditions = [c.id for c in (present, suspected) if c is not None] + [prior_id]
    encounter = _encounter(event, ctx, doctor, conditions=[str(c) for c in conditions], prior_id=prior_id,
                           guardian=guardian)
    referral = _referral(p, ctx, doctor)
    resources = [patient(person), *_prior(p.prior_diagnosis, person.patient_id),
                 *(r for r in (guardian, encounter, present, suspected, referral) if r is not None)]
    after = [After("staff", doctor.staff_id)]
    if present is not None and p.medical_record_id:  # the Condition's evidence is the signed EMR
        after.append(After("medical_record", p.medical_record_id))
    return entries(*resources, after=tuple(after))


def emr_signed(event: EventView[EmrSigned], ctx: MapContext) -> Mapped:
    """The signed outpatient record (hospital/contracts/visits.py `EmrSigned`) and the doctor's signature."""
    p = event.data
    doctor = ctx.staff(user_id=p.signed_by_user_id)
    content = msgspec.to_builtins({k: getattr(p, k) for k in EMR_FIELDS})
    data = base64.b64encode(json.dumps(content, ensure_ascii=False).encode("utf-8")).decode("ascii")
    note = build(DocumentReference, id=p.medical_record_id, identifier=[identifier("medical-record", p.medical_record_id)],
                 status="current", docStatus="final", type={"coding": [OUTPATIENT_NOTE], "text": "门诊病历"},
                 subject=ref("Patient", p.patient_id, p.patient_name), date=p.signed_at,
                 author=[practitioner_ref(doctor)], authenticator=practitioner_ref(doctor),
                 custodian=ref("Organization", ctx.organ_id),
                 description=f"{p.diagnosis_icd10} {p.diagnosis_name}".strip() or None,
                 content=[{"attachment": {"contentType": "application/json", "language": "zh-CN", "data": data,
                                          "title": "门诊病历", "creation": p.signed_at}}],
                 context={"encounter": [ref("Encounter", p.visit_id)]})
    provenance = build(Provenance, id=derived_id("provenance", "emr", p.medical_record_id),
                       target=[ref("DocumentReference", p.medical_record_id)], recorded=p.signed_at,
                       agent=[{"type": _concept("http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                                "author"), "who": practitioner_ref(doctor)}],
                       signature=[signature(AUTHOR_SIGNATURE, p.signed_at, doctor, p.signature)])
    return entries(note, provenance, after=(After("staff", doctor.staff_id), After("visit", p.visit_id)))


FHIR_MAPPERS: dict[str, Mapper] = {
    "visit.booked": visit,
    "visit.accepted": visit,
    "visit.started": visit,
    "visit.consult_ended": not_reported("the Encounter ends with visit.completed or visit.terminated"),
    "schedule.published": not_reported("the gateway's openDoctorBusiness; FHIR platforms take no schedules here"),
    "schedule.withdrawn": not_reported("the gateway's openDoctorBusiness; FHIR platforms take no schedules here"),
    "visit.cancelled": visit,
    "visit.completed": visit,
    "visit.terminated": visit,
    "emr.signed": emr_signed,
}
