"""The FHIR adapter: the same events as FHIR R4 resources validated by fhir.resources, and the transport's
transaction Bundle and answer classification (SUP-02 for FHIR-based platforms)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from connectors.supervision.fhir import map_fhir_event
from connectors.supervision.fhir.transport import FhirTransport, classify_fhir, transaction
from connectors.supervision.gateway.responses import Accepted, FixData, Retry
from connectors.supervision.mapping import Mapped, MappingFailed, NotReported, UnmappedEvent
from connectors.supervision.mapping import contract as c
from tests.unit.supervision.test_mapping import AT, CTX, DOCTOR, PATIENT, PHARMACIST, STAFF_PAYLOAD, VISIT, event


def resources(event_type: str, payload: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    outcome = map_fhir_event(event(event_type, payload), CTX)
    assert isinstance(outcome, Mapped), outcome
    found: dict[str, list[dict[str, Any]]] = {}
    for resource in outcome.records:
        found.setdefault(resource["resourceType"], []).append(resource)
    return found


def prescription(**changes: Any) -> dict[str, Any]:
    return {**c.prescription_approved("p-1", VISIT, PATIENT.patient_id, DOCTOR.user_id, PHARMACIST.user_id, AT),
            **changes}


def test_a_clinician_is_a_practitioner_identified_by_id_number_with_a_role_in_the_organization() -> None:
    found = resources("staff.record", STAFF_PAYLOAD)
    (person,), (role,) = found["Practitioner"], found["PractitionerRole"]
    assert person["id"] == DOCTOR.staff_id and person["identifier"][0]["value"] == DOCTOR.id_number
    assert [q["code"]["text"] for q in person["qualification"]] == ["physician_qualification", "physician_practice"]
    assert role["practitioner"]["reference"] == f"Practitioner/{DOCTOR.staff_id}"
    assert role["code"][0]["coding"][0]["code"] == "doctor"


def test_a_completed_visit_is_an_encounter_with_the_prior_diagnosis_and_its_document() -> None:
    found = resources("visit.completed", c.visit_completed(VISIT, PATIENT.patient_id, DOCTOR.user_id, AT))
    (encounter,), (document,) = found["Encounter"], found["DocumentReference"]
    assert encounter["status"] == "finished" and encounter["class"]["code"] == "VR"
    prior = next(x for x in found["Condition"] if "evidence" in x)
    assert prior["evidence"][0]["detail"][0]["reference"] == f"DocumentReference/{document['id']}"
    assert prior["code"]["coding"][0] == {"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10",
                                          "display": "原发性高血压"}
    assert {d["condition"]["reference"].split("/")[1] for d in encounter["diagnosis"]} == {
        x["id"] for x in found["Condition"]}
    assert found["Patient"][0]["identifier"][0]["value"] == PATIENT.id_number


def test_a_prescription_is_a_draft_when_submitted_and_the_same_request_active_on_approval() -> None:
    submitted = resources("prescription.submitted", prescription())["MedicationRequest"]
    approved = resources("prescription.approved", prescription(review_signature="eyJ.review.sig"))
    assert [r["status"] for r in submitted] == ["draft"] and [r["status"] for r in approved["MedicationRequest"]] == [
        "active"]
    assert submitted[0]["id"] == approved["MedicationRequest"][0]["id"]
    (provenance,) = approved["Provenance"]
    assert [s["type"][0]["code"] for s in provenance["signature"]] == ["1.2.840.10065.1.12.1.1",
                                                                       "1.2.840.10065.1.12.1.5"]
    assert [a["who"]["reference"] for a in provenance["agent"]] == [f"Practitioner/{DOCTOR.staff_id}",
                                                                     f"Practitioner/{PHARMACIST.staff_id}"]


def test_review_findings_are_detected_issues_and_a_clean_review_adds_none() -> None:
    findings = [{"rule_id": "RX-03", "severity": "WARN", "message": "28 days exceeds 7"}]
    issues = resources("review.approved", c.review("p-1", PHARMACIST.user_id, AT, findings=findings))["DetectedIssue"]
    assert [(i["code"]["text"], i["severity"], i["detail"]) for i in issues] == [("RX-03", "moderate",
                                                                                  "28 days exceeds 7")]
    assert isinstance(map_fhir_event(event("review.approved", c.review("p-1", PHARMACIST.user_id, AT)), CTX),
                      NotReported)


def test_face_verifications_are_audit_events_with_their_outcome() -> None:
    payload = {"verification_id": "v-1", "user_id": DOCTOR.user_id, "at": AT.isoformat(), "passed": False,
               "reason": "mismatch"}
    (audit,) = resources("face.verification", payload)["AuditEvent"]
    assert (audit["type"]["code"], audit["outcome"]) == ("110114", "4")


def test_events_outside_the_fhir_profile_are_not_reported_and_unknown_ones_unmapped() -> None:
    assert isinstance(map_fhir_event(event("rating.submitted", c.rating("r", VISIT, DOCTOR.user_id, AT)), CTX),
                      NotReported)
    assert isinstance(map_fhir_event(event("future.thing", {}), CTX), UnmappedEvent)


def test_the_transaction_bundle_puts_each_resource_by_id() -> None:
    found = map_fhir_event(event("prescription.approved", prescription()), CTX)
    assert isinstance(found, Mapped)
    bundle = transaction(found.records)
    assert bundle["type"] == "transaction"
    assert {e["request"]["method"] for e in bundle["entry"]} == {"PUT"}
    assert all(e["request"]["url"] == f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"])


@pytest.mark.parametrize(("status", "kind"), [(200, Accepted), (503, Retry), (429, Retry), (422, FixData)])
def test_fhir_answers_are_classified_like_the_gateways(status: int, kind: type) -> None:
    outcome = classify_fhir(status, json.dumps({"resourceType": "OperationOutcome",
                                                "issue": [{"severity": "error", "diagnostics": "bad code"}]}))
    assert isinstance(outcome, kind)
    if isinstance(outcome, FixData):
        assert outcome.msg == "bad code"


async def test_the_transport_posts_the_bundle_as_fhir_json() -> None:
    seen: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "transaction-response"})

    found = map_fhir_event(event("staff.record", STAFF_PAYLOAD), CTX)
    assert isinstance(found, Mapped)
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        outcome = await FhirTransport("http://fhir/r4", http).deliver(event("staff.record", STAFF_PAYLOAD), found, CTX)
    assert isinstance(outcome, Accepted)
    assert seen[0].headers["content-type"] == "application/fhir+json"
    assert json.loads(seen[0].content)["entry"][0]["resource"]["resourceType"] == "Practitioner"


def test_a_value_fhir_refuses_fails_the_mapping_naming_the_resource_and_field() -> None:

    with pytest.raises(MappingFailed, match=r"Practitioner.*birthDate"):
        map_fhir_event(event("staff.record", {**STAFF_PAYLOAD, "birth_date": "1980-13-45"}), CTX)
