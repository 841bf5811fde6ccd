"""Building FHIR R4 resources with `fhir.resources` (its R4B models: FHIR 4.3, compatible with R4 for every
resource used here), validated as they are built. Ids are ours (UUIDs), so a resource sent twice is the same
resource: the transport PUTs it by id and a repeat changes nothing."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from connectors.supervision.mapping.base import After, Mapped, MappingFailed, PatientRef, Requires, StaffRef

__all__ = [
    "FHIR_ROUTE",
    "ICD10",
    "ID_NUMBER_SYSTEM",
    "as_json",
    "build",
    "coded",
    "derived_id",
    "diagnosis",
    "entries",
    "gender",
    "identifier",
    "patient",
    "practitioner_ref",
    "ref",
    "signature",
]

# GB 11643 resident ID numbers (公民身份号码), by the OID China's health information standards give them.
ID_NUMBER_SYSTEM = "urn:oid:2.16.156.10011.1.1"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
FHIR_ROUTE = "fhir"  # the `method` of an event routed for a FHIR platform
HOSPITAL_SYSTEM = "urn:hospital:"  # our own identifiers and codes: urn:hospital:visit, urn:hospital:formulary …
NAMESPACE = uuid.UUID("5f3c5a52-9b7e-4a8e-9c41-5d0c2f7a9e10")
JOSE = "application/jose"  # every signature here is a compact JWS made with the clinician's certified key


def build(kind: type[Resource], **fields: Any) -> Resource:
    """The resource, validated by fhir.resources; a value it refuses is a MappingFailed naming it. Fields given
    as None are left out (FHIR has no nulls)."""
    try:
        return kind(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        raise MappingFailed(f"{kind.__name__}: {exc.errors()[0].get('loc')} {exc.errors()[0].get('msg')}") from exc


def as_json(resource: Resource) -> dict[str, Any]:
    """FHIR JSON (resourceType, aliases such as `class`), the way the server reads it."""
    return dict(json.loads(resource.model_dump_json()))


def entries(*resources: Resource, after: tuple[After, ...] = (), requires: tuple[Requires, ...] = ()) -> Mapped:
    """The resources of one event, as the FHIR transport sends them (one transaction Bundle). `after` orders the
    event behind the events that send the resources it references (its Practitioners, its Encounter …)."""
    return Mapped(FHIR_ROUTE, [as_json(r) for r in resources], after=tuple(dict.fromkeys(after)), requires=requires)


def derived_id(*parts: str) -> str:
    """A stable id for a resource we hold no row for (a prescription line's MedicationRequest …)."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def ref(resource_type: str, resource_id: str, display: str = "") -> dict[str, Any]:
    reference: dict[str, Any] = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        reference["display"] = display
    return reference


def identifier(kind: str, value: str) -> dict[str, str]:
    return {"system": HOSPITAL_SYSTEM + kind, "value": value}


def coded(kind: str, code: str, display: str = "", text: str = "") -> dict[str, Any]:
    """A CodeableConcept in one of our own code systems (urn:hospital:<kind>)."""
    coding: dict[str, Any] = {"system": HOSPITAL_SYSTEM + kind, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], "text": text or display or code}


def diagnosis(code: str, name: str) -> dict[str, Any]:
    """An ICD-10 diagnosis as a CodeableConcept."""
    return {"coding": [{"system": ICD10, "code": code, **({"display": name} if name else {})}], "text": name or code}


def gender(sex: str) -> str:
    return {"male": "male", "female": "female"}.get(sex, "unknown")


def patient(person: PatientRef) -> Resource:
    """The patient, identified by the resident ID number (the key supervision platforms match people on)."""
    return build(Patient, id=person.patient_id, identifier=[{"system": ID_NUMBER_SYSTEM, "value": person.id_number}],
                 name=[{"text": person.name}], gender=gender(person.sex), birthDate=person.birth_date)


def practitioner_ref(person: StaffRef) -> dict[str, Any]:
    return ref("Practitioner", person.staff_id, person.name)


def signature(code: tuple[str, str], when: datetime | None, who: StaffRef, jws: str) -> dict[str, Any]:
    """A Provenance signature carrying a clinician's JWS as it was issued (RX-05), base64 as FHIR wants it."""
    if not jws:
        raise MappingFailed(f"the {code[1]} of {who.name} has no JWS to carry")
    return {"type": [{"system": "urn:iso-astm:E1762-95:2013", "code": code[0], "display": code[1]}], "when": when,
            "who": practitioner_ref(who), "sigFormat": JOSE, "data": base64.b64encode(jws.encode("ascii")).decode()}
