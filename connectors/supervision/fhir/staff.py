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
from hospital.contracts.biometrics import FaceVerified, SecurityAlert
from hospital.contracts.institution import LicenceRecorded
from hospital.contracts.staff import Credential, StaffRecord
from hospital.contracts.video import VideoPaused

__all__ = ["FHIR_MAPPERS"]

DCM = "http://dicom.nema.org/resources/ontology/DCM"
ROLE = {"doctor": ("doctor", "Doctor"), "pharmacist": ("pharmacist", "Pharmacist"), "nurse": ("nurse", "Nurse")}
ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/practitioner-role"


def organization(event: EventView[LicenceRecorded], ctx: MapContext) -> Mapped:
    p = event.data
    org = build(Organization, id=ctx.organ_id, name=p.internet_hospital_name or ctx.organ_name,
                alias=[p.institution_name] if p.institution_name else None,
                identifier=[identifier("licence", p.licence_number)],
                address=[{"text": p.address}] if p.address else None, active=True)
    return entries(org)


def _qualifications(credentials: list[Credential]) -> list[dict[str, Any]]:
    return [{"identifier": [identifier(c.kind, c.number)], "code": {"text": c.kind},
             **({"period": {"end": c.valid_until}} if c.valid_until else {})} for c in credentials]


def staff_record(event: EventView[StaffRecord], ctx: MapContext) -> Mapped:
    p = event.data
    person = build(Practitioner, id=p.staff_id, identifier=[{"system": ID_NUMBER_SYSTEM, "value": p.id_number}],
                   active=not p.suspended, name=[{"text": p.name}], gender=gender(p.sex), birthDate=p.birth_date,
                   qualification=_qualifications(p.credentials) or None)
    code, display = ROLE.get(p.kind, (p.kind, p.kind))
    role = build(PractitionerRole, id=derived_id("role", p.staff_id), active=not p.suspended,
                 practitioner=ref("Practitioner", p.staff_id), organization=ref("Organization", ctx.organ_id),
                 code=[{"coding": [{"system": ROLE_SYSTEM, "code": code, "display": display}], "text": p.title or None}],
                 specialty=[{"coding": [{"system": "urn:hospital:department", "code": d,
                                         "display": ctx.department_name(d) or None}]}
                            for d in p.departments] or None)
    return entries(person, role)


def _audit(event: EventView[Any], ctx: MapContext, *, who: dict[str, Any], type_code: tuple[str, str], success: bool,
           at: Any, description: str, what: dict[str, Any] | None = None) -> Resource:
    return build(AuditEvent, id=derived_id("audit", event.event_type, event.subject_id, str(event.version)),
                 type={"system": DCM, "code": type_code[0], "display": type_code[1]}, action="E",
                 recorded=ctx.moment(at), outcome="0" if success else "4", outcomeDesc=description,
                 agent=[{"who": who, "requestor": True}],
                 source={"observer": ref("Organization", ctx.organ_id), "site": ctx.organ_name or None},
                 entity=[{"what": what}] if what else None)


def face_verification(event: EventView[FaceVerified], ctx: MapContext) -> Mapped:
    p = event.data
    clinician = ctx.staff(user_id=p.user_id)
    audit = _audit(event, ctx, who=ref("Practitioner", clinician.staff_id, clinician.name),
                   type_code=("110114", "User Authentication"), success=p.passed, at=p.at,
                   description=f"face verification {'passed' if p.passed else 'failed'} ({p.reason}, FACE-04)",
                   what={"identifier": identifier("face-verification", p.verification_id)})
    return entries(audit, after=(After("staff", clinician.staff_id),))


def security_alert(event: EventView[SecurityAlert], ctx: MapContext) -> Mapped:
    p = event.data
    clinician = ctx.staff(user_id=p.user_id)
    audit = _audit(event, ctx, who=ref("Practitioner", clinician.staff_id, clinician.name),
                   type_code=("110113", "Security Alert"), success=False, at=event.created_at,
                   description=f"{p.kind}: {p.failed_attempts} failed attempts")
    return entries(audit, after=(After("staff", clinician.staff_id),))


def video_paused(event: EventView[VideoPaused], ctx: MapContext) -> Mapped:
    """The face watch lost the doctor during a video visit and paused it (FACE-02): a failed authentication of
    the visit's Encounter."""
    p = event.data
    clinician = ctx.staff(user_id=p.doctor_user_id)
    audit = _audit(event, ctx, who=ref("Practitioner", clinician.staff_id, clinician.name),
                   type_code=("110114", "User Authentication"), success=False, at=p.paused_at,
                   description=f"video visit paused by the face watch ({p.reason or ''}, FACE-02)",
                   what=ref("Encounter", p.visit_id))
    return entries(audit, after=(After("staff", clinician.staff_id), After("visit", p.visit_id)))


def department(event: EventView[Any], ctx: MapContext) -> NotReported:
    return NotReported("departments travel as codes inside PractitionerRole.specialty and Encounter.serviceType")


FHIR_MAPPERS: dict[str, Mapper] = {
    "institution.licence": organization,
    "institution.department": department,
    "staff.record": staff_record,
    "staff.business": not_reported("PractitionerRole.active follows the staff.record sent with the same change"),
    "signing.device_revoked": not_reported("FHIR Practitioner carries no signing-certificate state; the revocation "
                                           "is in the hospital's published CRL (RX-05)"),
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
