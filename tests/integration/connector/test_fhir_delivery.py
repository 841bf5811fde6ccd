"""The dispatcher delivering to a FHIR server (HOSPITAL_SUPERVISION_PROTOCOL=fhir): each event one
transaction Bundle of resources PUT by id; a prescription's MedicationRequest goes from draft to active, with
both signatures in its Provenance; what the server refuses is dead-lettered with its diagnostics."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.supervision.mapping import contract as c
from connectors.supervision.settings import Protocol
from hospital.config import Settings
from tests.integration.connector.conftest import DispatcherFactory, deliver_all, demo_people, emit_all, fresh_outbox


class FhirServer:
    """Just enough of a FHIR server: takes transaction Bundles, keeps the latest version of each resource."""

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        self.bundles = 0
        self.refuse: str | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        bundle = json.loads(request.content)
        assert request.headers["content-type"] == "application/fhir+json" and bundle["type"] == "transaction"
        if self.refuse and any(e["resource"]["resourceType"] == self.refuse for e in bundle["entry"]):
            return httpx.Response(422, json={"resourceType": "OperationOutcome", "issue": [
                {"severity": "error", "code": "invalid", "diagnostics": f"{self.refuse} failed profile validation"}]})
        self.bundles += 1
        for entry in bundle["entry"]:
            self.resources[entry["request"]["url"]] = entry["resource"]
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "transaction-response"})

    def of(self, resource_type: str) -> list[dict[str, Any]]:
        return [r for url, r in self.resources.items() if url.startswith(resource_type + "/")]


async def test_prescription_resources_reach_a_fhir_server_draft_then_active_with_both_signatures(
    demo: None, settings: Settings, dispatchers: DispatcherFactory
) -> None:
    p = await demo_people(settings)
    server = FhirServer()
    visit, rx, now = str(uuid.uuid4()), str(uuid.uuid4()), datetime.now(UTC)
    submitted = c.prescription_approved(rx, visit, p.patient_id, p.doctor_user_id, p.pharmacist_user_id, now)
    await emit_all(settings, [
        ("visit.completed", "visit", visit, c.visit_completed(visit, p.patient_id, p.doctor_user_id, now)),
        ("prescription.submitted", "prescription", rx, submitted),
        ("prescription.approved", "prescription", rx, {**submitted, "review_signature": "eyJ.review.sig"}),
    ])
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        await deliver_all(await dispatchers(http=http, protocol=Protocol.FHIR, url="http://fhir/r4"))
    assert {r["id"] for r in server.of("Practitioner")} == {p.doctor_staff_id, p.pharmacist_staff_id}
    (request,) = server.of("MedicationRequest")
    assert request["status"] == "active" and request["subject"]["reference"] == f"Patient/{p.patient_id}"
    (provenance,) = server.of("Provenance")
    assert len(provenance["signature"]) == 2
    assert server.of("Encounter")[0]["status"] == "finished" and server.of("DocumentReference")
    statuses = {r.event_type: r.status for r in await fresh_outbox(settings)}
    assert statuses["prescription.submitted"] == statuses["prescription.approved"] == "sent"
    assert statuses["institution.department"] == "skipped"


async def test_a_bundle_the_fhir_server_refuses_is_dead_lettered_with_its_diagnostics(
    demo: None, settings: Settings, dispatchers: DispatcherFactory
) -> None:
    server = FhirServer()
    server.refuse = "Organization"
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        await deliver_all(await dispatchers(http=http, protocol=Protocol.FHIR, url="http://fhir/r4"))
    (licence,) = [r for r in await fresh_outbox(settings) if r.event_type == "institution.licence"]
    assert (licence.status, licence.last_error) == ("dead", "422 Organization failed profile validation")
    assert len(server.of("Practitioner")) == 2  # the rest went through
