"""The dispatcher delivering a real day to a FHIR server (HOSPITAL_SUPERVISION_PROTOCOL=fhir): each event one
transaction Bundle of resources PUT by id, each after the events whose resources it references; a prescription's
MedicationRequest goes from draft to active, with both signatures in its Provenance; what the server refuses is
dead-lettered with its diagnostics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from connectors.supervision.settings import Protocol
from hospital.config import Settings
from tests.conftest import FakeClock
from tests.integration.connector.conftest import DispatcherFactory, deliver_all, fresh_outbox
from tests.integration.connector.real_day import a_real_day

pytestmark = pytest.mark.requirement("SUP-02")


def references(value: Any) -> Iterator[str]:
    """Every literal reference ("Type/id") in a resource."""
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value["reference"]
        for inner in value.values():
            yield from references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from references(inner)


class FhirServer:
    """Just enough of a FHIR server: takes transaction Bundles, keeps the latest version of each resource, and
    refuses a Bundle referencing a resource it does not hold yet (referential integrity, as HAPI enforces it).
    The Organization is filed with the licence before anything else, so it is not checked."""

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        self.bundles = 0
        self.refuse: str | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        bundle = json.loads(request.content)
        assert request.headers["content-type"] == "application/fhir+json" and bundle["type"] == "transaction"
        if self.refuse and any(e["resource"]["resourceType"] == self.refuse for e in bundle["entry"]):
            return self.invalid(f"{self.refuse} failed profile validation")
        inside = {e["request"]["url"] for e in bundle["entry"]}
        dangling = {r for e in bundle["entry"] for r in references(e["resource"])
                    if r not in inside and r not in self.resources and not r.startswith("Organization/")}
        if dangling:
            return self.invalid(f"references to resources not on the server: {sorted(dangling)}")
        self.bundles += 1
        for entry in bundle["entry"]:
            self.resources[entry["request"]["url"]] = entry["resource"]
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "transaction-response"})

    @staticmethod
    def invalid(diagnostics: str) -> httpx.Response:
        return httpx.Response(422, json={"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "invalid", "diagnostics": diagnostics}]})

    def of(self, resource_type: str) -> list[dict[str, Any]]:
        return [r for url, r in self.resources.items() if url.startswith(resource_type + "/")]


async def test_a_real_day_reaches_a_fhir_server_in_order_with_prescriptions_draft_then_active(
    china_after_midnight: datetime,
    client: AsyncTestClient[Any], clock: FakeClock, demo: None, settings: Settings, dispatchers: DispatcherFactory
) -> None:
    day = await a_real_day(client, clock)
    server = FhirServer()
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        await deliver_all(await dispatchers(http=http, protocol=Protocol.FHIR, url="http://fhir/r4"))
    events = await fresh_outbox(settings)
    # Every event is sent or skipped with a reason: none refused (no reference ahead of its resource), none parked.
    assert {(e.event_type, e.status, e.last_error) for e in events if e.status not in ("sent", "skipped")} == set()
    sent = {e.event_type for e in events if e.status == "sent"}
    assert {"visit.booked", "emr.signed", "prescription.submitted", "prescription.approved", "prescription.rejected",
            "dispensing.delivery_updated", "visit.completed", "visit.terminated", "face.verification"} <= sent
    assert {e.event_type for e in events if e.status == "skipped"} >= {"institution.department", "rating.submitted"}
    # The server holds the last stage of each: the approved prescription active, the rejected one cancelled.
    requests = {r["groupIdentifier"]["value"]: r for r in server.of("MedicationRequest")}
    assert requests[day.prescription_id]["status"] == "active"
    assert requests[day.rejected_prescription_id]["status"] == "cancelled"
    provenance = next(p for p in server.of("Provenance")
                      if p["target"][0]["reference"] == f"MedicationRequest/{requests[day.prescription_id]['id']}")
    assert len(provenance["signature"]) == 2
    encounters = {e["id"]: e["status"] for e in server.of("Encounter")}
    assert (encounters[day.visit_id], encounters[day.cancelled_visit_id]) == ("finished", "cancelled")
    (dispense,) = server.of("MedicationDispense")
    assert dispense["status"] == "in-progress" and any("SF1234567890" in n["text"] for n in dispense["note"])
    assert server.bundles == sum(e.status == "sent" for e in events)


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
