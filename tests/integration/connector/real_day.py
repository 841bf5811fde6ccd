"""A real day of the hospital over HTTP, and its outbox as the dispatcher's mappers read it: shared by the
gateway's and the FHIR adapter's real-event tests (test_real_events_map.py, test_real_events_fhir.py) and the
FHIR delivery test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from litestar.testing import AsyncTestClient

from connectors.supervision.directory import opened_payload
from connectors.supervision.dispatcher import Dispatcher
from connectors.supervision.mapping import EventView, event_view
from hospital.config import Settings
from hospital.core.clock import local_date
from tests.conftest import FakeClock
from tests.helpers import choose_delivery, login_as
from tests.integration.connector.conftest import fresh_outbox
from tests.integration.prescriptions.conftest import reviewing_pharmacist, states_no_known_allergies, write
from tests.integration.visits.journey import EMR, accept, book, demo_prior_id, doctor_in_session, publish, schedule_of
from tests.signing import signed_post

__all__ = ["Day", "a_real_day", "a_whole_visit", "mapped_views", "the_other_endings"]


@dataclass
class Day:
    """What the day's requests answered, for the tests to compare the mapped records with."""

    visit_id: str = ""
    prior: dict[str, Any] = field(default_factory=dict)  # the prior diagnosis as the patient filed it
    prescription_id: str = ""
    dispensing_id: str = ""
    export: dict[str, Any] = field(default_factory=dict)  # GET /api/prescriptions/{id}/export of the approved one
    cancelled_visit_id: str = ""
    terminated_visit_id: str = ""
    rejected_prescription_id: str = ""
    rejection_reason: str = ""
    referral: dict[str, Any] = field(default_factory=dict)


async def a_whole_visit(client: AsyncTestClient[Any], clock: FakeClock, day: Day | None = None) -> Day:
    """The patient books, the doctor sees them and prescribes, the pharmacy approves and ships, the patient rates."""
    day = day or Day()
    patient = await login_as(client, "patient")
    schedule = await schedule_of(client)
    prior_id = await demo_prior_id(client, patient)
    day.prior = next(p for p in (await client.get("/api/prior-diagnoses", headers=patient)).json()
                     if p["prior_diagnosis_id"] == prior_id)
    booked = await book(client, patient, schedule["schedule_id"], prior_id)
    assert booked.status_code == 201, booked.text
    visit_id = day.visit_id = booked.json()["visit_id"]
    await states_no_known_allergies(client, patient)
    doctor = await doctor_in_session(client)
    # A face verification is stamped by the wall clock (its row's created_at), not ctx.now(): the visit's clock
    # catches up, so the platform sees the doctor verified before the visit starts (FACE-02).
    clock.current = max(clock.current, datetime.now(UTC))
    assert (await accept(client, doctor, visit_id)).status_code == 200
    assert (await client.post(f"/api/visits/{visit_id}/start", headers=doctor)).status_code == 200
    assert (await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor, json=EMR)).status_code == 200
    signed = await signed_post(client, f"/api/visits/{visit_id}/medical-record/sign-off", doctor)
    assert signed.status_code == 200, signed.text
    written = await write(client, doctor, visit_id)
    assert written.status_code == 201, written.text
    rx_id = day.prescription_id = written.json()["prescription_id"]
    pharmacist = await reviewing_pharmacist(client)
    clock.current = max(clock.current, datetime.now(UTC))  # the pharmacist verified before reviewing (FACE-02)
    reviewed = await signed_post(client, f"/api/prescriptions/{rx_id}/review", pharmacist,
                                 {"decision": "approve", "reasons": []})
    assert reviewed.status_code == 200, reviewed.text
    exported = await client.get(f"/api/prescriptions/{rx_id}/export", headers=pharmacist)
    assert exported.status_code == 200, exported.text
    day.export = exported.json()
    chose = await choose_delivery(client, rx_id)  # the patient asks for delivery (RX-08)
    assert chose.status_code == 200, chose.text
    dispensed = await client.post(f"/api/prescriptions/{rx_id}/dispensing", headers=pharmacist,
                                  json={"courier_kind": "third_party", "courier_name": "顺丰速运"})
    assert dispensed.status_code in (200, 201), dispensed.text
    day.dispensing_id = dispensed.json()["dispensing_id"]
    shipped = await client.post(f"/api/dispensings/{day.dispensing_id}/delivery", headers=pharmacist,
                                json={"status": "shipped", "tracking_number": "SF1234567890"})
    assert shipped.status_code == 200, shipped.text
    completed = await client.post(f"/api/visits/{visit_id}/complete", headers=doctor)
    assert completed.status_code == 200, completed.text
    clock.advance(minutes=5)
    rated = await client.post(f"/api/visits/{visit_id}/rating", headers=patient, json={"score": 5, "comment": "很好"})
    assert rated.status_code == 201, rated.text
    filed = await client.post("/api/complaints", headers=patient,
                              json={"category": "service", "description": "等候时间较长", "visit_id": visit_id})
    assert filed.status_code == 201, filed.text
    answered = await client.post(f"/api/complaints/{filed.json()['complaint_id']}/answer",
                                 headers=await login_as(client, "admin"),
                                 json={"outcome": "dispute", "response": "已转医患纠纷调解程序"})
    assert answered.status_code == 200, answered.text
    reported = await client.post("/api/adverse-events", headers=await login_as(client, "doctor"), json={
        "kind": "drug", "severity": "mild", "occurred_on": local_date(clock()).isoformat(),
        "description": "服药后轻度头晕", "drug_code": "C08CA01-tab-5mg", "visit_id": visit_id})
    assert reported.status_code == 201, reported.text
    return day


async def the_other_endings(client: AsyncTestClient[Any], day: Day | None = None) -> Day:
    """A prescription rejected, a visit withdrawn by the patient, another ended by the doctor."""
    day = day or Day()
    patient = await login_as(client, "patient")
    prior = await demo_prior_id(client, patient)
    doctor = await doctor_in_session(client)
    visits = []
    for hour in (9, 14):  # slots of their own: one active booking per slot (REV-06)
        published = await publish(client, doctor, hour=hour, capacity=2)
        assert published.status_code == 201, published.text
        booked = await book(client, patient, published.json()["schedule_id"], prior)
        assert booked.status_code == 201, booked.text
        visits.append(booked.json()["visit_id"])
    day.cancelled_visit_id, day.terminated_visit_id = visits
    await states_no_known_allergies(client, patient)
    assert (await client.post(f"/api/visits/{visits[0]}/cancel", headers=patient, json={})).status_code == 200
    assert (await accept(client, doctor, visits[1])).status_code == 200
    written = await write(client, doctor, visits[1])
    assert written.status_code == 201, written.text
    day.rejected_prescription_id = written.json()["prescription_id"]
    day.rejection_reason = "剂量偏低，建议评估后调整"
    rejected = await signed_post(client, f"/api/prescriptions/{day.rejected_prescription_id}/review",
                                 await reviewing_pharmacist(client),
                                 {"decision": "reject", "reasons": [day.rejection_reason],
                                  "reason_codes": ["ns_usage_vague"]})  # signed on the device (RX-05), coded (RX-06)
    assert rejected.status_code == 200, rejected.text
    day.referral = {"institution": "示范市第一人民医院", "department": "心内科", "advice": "线下初诊", "urgent": False}
    terminated = await client.post(f"/api/visits/{visits[1]}/terminate", headers=doctor, json={
        "reason": "first_visit_discovered", "note": "既往诊断与本次症状不符", "referral": day.referral})
    assert terminated.status_code == 200, terminated.text
    return day


async def a_real_day(client: AsyncTestClient[Any], clock: FakeClock) -> Day:
    return await the_other_endings(client, await a_whole_visit(client, clock))


async def mapped_views(settings: Settings, dispatcher: Dispatcher) -> list[EventView[Any]]:
    """Every outbox event as the dispatcher hands it to a mapper: sealed part opened, the payload converted into
    its event type's contract Struct (every event of the day has one), the people and earlier events it names
    loaded into the directory."""
    assert dispatcher.directory is not None
    views, opened = [], []
    for e in await fresh_outbox(settings):
        opened.append(opened_payload(e.payload or {}, dispatcher.directory))
        view = event_view(e.seq, e.event_type, e.subject_type, e.subject_id, e.version, e.created_at, opened[-1])
        assert isinstance(view, EventView), f"{e.event_type} has no payload contract"
        views.append(view)
    await dispatcher.directory.prepare(opened)
    return views
