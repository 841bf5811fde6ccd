"""Building FHIR R4 resources with `fhir.resources` (its R4B models: FHIR 4.3, compatible with R4 for every
resource used here), validated as they are built. Ids are ours (UUIDs), so a resource sent twice is the same
resource: the transport PUTs it by id and a repeat changes nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from connectors.supervision.mapping.base import After, Mapped, MappingFailed, PatientRef, Requires, StaffRef

__all__ = [
    "FHIR_ROUTE",
    "ID_NUMBER_SYSTEM",
    "as_json",
    "build",
    "derived_id",
    "entries",
    "patient",
    "ref",
]

# GB 11643 resident ID numbers (公民身份号码), by the OID China's health information standards give them.
ID_NUMBER_SYSTEM = "urn:oid:2.16.156.10011.1.1"
FHIR_ROUTE = "fhir"  # the `method` of an event routed for a FHIR platform
HOSPITAL_SYSTEM = "urn:hospital:"  # our own identifiers: urn:hospital:visit, urn:hospital:prescription …
NAMESPACE = uuid.UUID("5f3c5a52-9b7e-4a8e-9c41-5d0c2f7a9e10")


def build(kind: type[Resource], **fields: Any) -> Resource:
    """The resource, validated by fhir.resources; a value it refuses is a MappingFailed naming it."""
    try:
        return kind(**fields)
    except ValidationError as exc:
        raise MappingFailed(f"{kind.__name__}: {exc.errors()[0].get('loc')} {exc.errors()[0].get('msg')}") from exc


def as_json(resource: Resource) -> dict[str, Any]:
    """FHIR JSON (resourceType, aliases such as `class`), the way the server reads it."""
    return dict(json.loads(resource.model_dump_json()))


def entries(*resources: Resource, after: tuple[After, ...] = (), requires: tuple[Requires, ...] = ()) -> Mapped:
    """The resources of one event, as the FHIR transport sends them (one transaction Bundle)."""
    return Mapped(FHIR_ROUTE, [as_json(r) for r in resources], after=after, requires=requires)


def derived_id(*parts: str) -> str:
    """A stable id for a resource we hold no row for (the prior diagnosis's Condition of a visit)."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def ref(resource_type: str, resource_id: str, display: str = "") -> dict[str, Any]:
    reference: dict[str, Any] = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        reference["display"] = display
    return reference


def identifier(kind: str, value: str) -> dict[str, str]:
    return {"system": HOSPITAL_SYSTEM + kind, "value": value}


def gender(sex: str) -> str:
    return {"male": "male", "female": "female"}.get(sex, "unknown")


def patient(person: PatientRef) -> Resource:
    from fhir.resources.R4B.patient import Patient

    return build(Patient, id=person.patient_id, identifier=[{"system": ID_NUMBER_SYSTEM, "value": person.id_number}],
                 name=[{"text": person.name}], gender=gender(person.sex), birthDate=person.birth_date)


def practitioner_ref(person: StaffRef) -> dict[str, Any]:
    return ref("Practitioner", person.staff_id, person.name)
