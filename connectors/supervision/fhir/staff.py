"""FHIR for reference data: the institution (Organization, INS-01), clinicians (Practitioner and
PractitionerRole, STAFF-04), and every face verification and the lock-out alert (AuditEvent, FACE-04)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.resource import Resource

from connectors.supervision.fhir.resources import (
    ID_NUMBER_SYSTEM,
    build,
    derived_id,
    entries,
    gender,
    identifier,
    ref,
)
from connectors.supervision.mapping.base import After, EventView, MapContext, Mapped, Mapper, NotReported, not_reported

__all__ = ["FHIR_MAPPERS"]

DCM = "http://dicom.nema.org/resources/ontology/DCM"
ROLE = {"doctor": ("doctor", "Doctor"), "pharmacist": ("pharmacist", "Pharmacist"), "nurse": ("nurse", "Nurse")}
ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/practitioner-role"


def organization(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    org = build(Organization, id=ctx.organ_id, name=p.get("internet_hospital_name") or ctx.organ_name,
                alias=[p["institution_name"]] if p.get("institution_name") else None,
                identifier=[identifier("licence", str(event.require("licence_number")))],
                address=[{"text": p["address"]}] if p.get("address") else None, active=True)
    return entries(org)


def _qualifications(credentials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"identifier": [identifier(str(c["kind"]), str(c["number"]))], "code": {"text": str(c["kind"])},
             **({"period": {"end": c["valid_until"]}} if c.get("valid_until") else {})} for c in credentials]


def staff_record(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    staff_id = str(event.require("staff_id"))
    id_number = p.get("id_number") or ctx.staff(staff_id=staff_id).id_number
    kind = str(event.require("kind"))
    person = build(Practitioner, id=staff_id, identifier=[{"system": ID_NUMBER_SYSTEM, "value": id_number}],
                   active=not p.get("suspended", False), name=[{"text": p.get("name", "")}],
                   gender=gender(str(p.get("sex", ""))), birthDate=p.get("birth_date"),
                   qualification=_qualifications(list(p.get("credentials") or [])) or None)
    code, display = ROLE.get(kind, (kind, kind))
    role = build(PractitionerRole, id=derived_id("role", staff_id), active=not p.get("suspended", False),
                 practitioner=ref("Practitioner", staff_id), organization=ref("Organization", ctx.organ_id),
                 code=[{"coding": [{"system": ROLE_SYSTEM, "code": code, "display": display}], "text": p.get("title")}],
                 specialty=[{"coding": [{"system": "urn:hospital:department", "code": d,
                                         "display": ctx.department_name(d) or None}]}
                            for d in p.get("departments") or []] or None)
    return entries(person, role)


def _audit(event: EventView, ctx: MapContext, *, who: dict[str, Any], type_code: tuple[str, str], success: bool,
           at: Any, description: str, what: dict[str, Any] | None = None) -> Resource:
    return build(AuditEvent, id=derived_id("audit", event.event_type, event.subject_id, str(event.version)),
                 type={"system": DCM, "code": type_code[0], "display": type_code[1]}, action="E",
                 recorded=ctx.moment(at), outcome="0" if success else "4", outcomeDesc=description,
                 agent=[{"who": who, "requestor": True}],
                 source={"observer": ref("Organization", ctx.organ_id), "site": ctx.organ_name or None},
                 entity=[{"what": what}] if what else None)


def face_verification(event: EventView, ctx: MapContext) -> Mapped:
    clinician = ctx.staff(user_id=event.require("user_id"))
    passed = bool(event.require("passed"))
    audit = _audit(event, ctx, who=ref("Practitioner", clinician.staff_id, clinician.name),
                   type_code=("110114", "User Authentication"), success=passed, at=event.require("at"),
                   description=f"face verification {'passed' if passed else 'failed'} ({event.get('reason', '')}, FACE-04)",
                   what={"identifier": identifier("face-verification",
                                                  str(event.get("verification_id") or event.subject_id))})
    return entries(audit, after=(After("staff", clinician.staff_id),))


def security_alert(event: EventView, ctx: MapContext) -> Mapped:
    clinician = ctx.staff(user_id=event.require("user_id"))
    audit = _audit(event, ctx, who=ref("Practitioner", clinician.staff_id, clinician.name),
                   type_code=("110113", "Security Alert"), success=False, at=event.created_at,
                   description=f"{event.get('kind', 'alert')}: {event.get('failed_attempts', '')} failed attempts")
    return entries(audit, after=(After("staff", clinician.staff_id),))


def video_paused(event: EventView, ctx: MapContext) -> Mapped:
    """The face watch lost the doctor during a video visit and paused it (FACE-02): a failed authentication of
    the visit's Encounter."""
    clinician = ctx.staff(user_id=event.require("doctor_user_id"))
    visit_id = str(event.require("visit_id"))
    audit = _audit(event, ctx, who=ref("Practitioner", clinician.staff_id, clinician.name),
                   type_code=("110114", "User Authentication"), success=False, at=event.require("paused_at"),
                   description=f"video visit paused by the face watch ({event.get('reason', '')}, FACE-02)",
                   what=ref("Encounter", visit_id))
    return entries(audit, after=(After("staff", clinician.staff_id), After("visit", visit_id)))


def department(event: EventView, ctx: MapContext) -> NotReported:
    return NotReported("departments travel as codes inside PractitionerRole.specialty and Encounter.serviceType")


FHIR_MAPPERS: dict[str, Mapper] = {
    "institution.licence": organization,
    "institution.department": department,
    "staff.record": staff_record,
    "face.verification": face_verification,
    "security.alert": security_alert,
    "video.paused": video_paused,
    "video.resumed": not_reported("the call resumes on a new face verification, sent as its own AuditEvent"),
    "institution.service_stopped": not_reported("no FHIR resource records a service stop (QA-02); the hospital "
                                                "tells the health commission itself"),
    "institution.service_resumed": not_reported("no FHIR resource records a service stop (QA-02)"),
    # SEC-02: a leak is reported to the authorities by the hospital's own procedure (docs/security.md), not as data.
    "security.incident": not_reported("a security incident is reported to the authorities by the incident "
                                      "procedure (SEC-02), not uploaded as a resource"),
}
