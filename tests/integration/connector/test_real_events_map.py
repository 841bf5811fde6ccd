"""The events the areas really emit (not the contract's examples) map to complete platform records (SUP-02).

A whole day's journey over HTTP — book, accept, start, sign the record, prescribe, approve, dispense, ship,
complete, rate, complain — then every outbox event goes through the mapping registry exactly as the
dispatcher reads it (sealed part opened, people looked up in its directory).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar.testing import AsyncTestClient

from connectors.supervision.directory import opened_payload
from connectors.supervision.gateway.methods import missing_required
from connectors.supervision.mapping import EventView, Mapped, MappingFailed, NotReported, UnmappedEvent, map_event
from hospital.config import Settings
from tests.conftest import FakeClock
from tests.helpers import login_as
from tests.integration.connector.conftest import UNIT, DispatcherFactory, fresh_outbox
from tests.integration.prescriptions.conftest import reviewing_pharmacist, rx_body
from tests.integration.visits.journey import EMR, accept, book, demo_prior_id, doctor_in_session, publish, schedule_of


async def a_whole_visit(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    """The patient books, the doctor sees them and prescribes, the pharmacy approves and ships, the patient rates."""
    patient = await login_as(client, "patient")
    schedule = await schedule_of(client)
    booked = await book(client, patient, schedule["schedule_id"], await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text
    visit_id = booked.json()["visit_id"]
    doctor = await doctor_in_session(client)
    # A face verification is stamped by the wall clock (its row's created_at), not ctx.now(): the visit's clock
    # catches up, so the platform sees the doctor verified before the visit starts (FACE-02).
    clock.current = max(clock.current, datetime.now(UTC))
    assert (await accept(client, doctor, visit_id)).status_code == 200
    assert (await client.post(f"/api/visits/{visit_id}/start", headers=doctor)).status_code == 200
    assert (await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor, json=EMR)).status_code == 200
    signed = await client.post(f"/api/visits/{visit_id}/medical-record/sign-off", headers=doctor)
    assert signed.status_code == 200, signed.text
    written = await client.post(f"/api/visits/{visit_id}/prescriptions", headers=doctor, json=rx_body())
    assert written.status_code == 201, written.text
    rx_id = written.json()["prescription_id"]
    pharmacist = await reviewing_pharmacist(client)
    reviewed = await client.post(f"/api/prescriptions/{rx_id}/review", headers=pharmacist,
                                 json={"decision": "approve", "reasons": []})
    assert reviewed.status_code == 200, reviewed.text
    dispensed = await client.post(f"/api/prescriptions/{rx_id}/dispensing", headers=pharmacist,
                                  json={"courier_kind": "third_party", "courier_name": "顺丰速运"})
    assert dispensed.status_code in (200, 201), dispensed.text
    shipped = await client.post(f"/api/dispensings/{dispensed.json()['dispensing_id']}/delivery", headers=pharmacist,
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
        "kind": "drug", "severity": "mild", "occurred_on": clock().date().isoformat(),
        "description": "服药后轻度头晕", "drug_code": "C08CA01-tab-5mg", "visit_id": visit_id})
    assert reported.status_code == 201, reported.text


async def the_other_endings(client: AsyncTestClient[Any]) -> None:
    """A prescription rejected, a visit withdrawn by the patient, another ended by the doctor."""
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
    assert (await client.post(f"/api/visits/{visits[0]}/cancel", headers=patient, json={})).status_code == 200
    assert (await accept(client, doctor, visits[1])).status_code == 200
    written = await client.post(f"/api/visits/{visits[1]}/prescriptions", headers=doctor, json=rx_body())
    assert written.status_code == 201, written.text
    rejected = await client.post(f"/api/prescriptions/{written.json()['prescription_id']}/review",
                                 headers=await reviewing_pharmacist(client),
                                 json={"decision": "reject", "reasons": ["剂量偏低，建议评估后调整"]})
    assert rejected.status_code == 200, rejected.text
    terminated = await client.post(f"/api/visits/{visits[1]}/terminate", headers=doctor, json={
        "reason": "first_visit_discovered", "note": "既往诊断与本次症状不符",
        "referral": {"institution": "示范市第一人民医院", "department": "心内科", "advice": "线下初诊", "urgent": False}})
    assert terminated.status_code == 200, terminated.text


async def test_every_event_of_a_real_day_maps_to_a_complete_platform_record(
    client: AsyncTestClient[Any], clock: FakeClock, settings: Settings, demo: None, dispatchers: DispatcherFactory
) -> None:
    await a_whole_visit(client, clock)
    await the_other_endings(client)
    dispatcher = await dispatchers()
    events = await fresh_outbox(settings)
    views = [EventView(e.seq, e.event_type, e.subject_type, e.subject_id, e.version, e.created_at,
                       opened_payload(e.payload or {}, dispatcher.directory)) for e in events]
    await dispatcher.directory.prepare(v.payload for v in views)
    problems: list[str] = []
    outcomes: dict[str, str] = {}
    records: dict[str, dict[str, Any]] = {}
    for view in views:
        try:
            outcome = map_event(view, dispatcher.map_context())
        except MappingFailed as failed:
            problems.append(f"{view.event_type}: {failed.detail}")
            continue
        if isinstance(outcome, UnmappedEvent):
            problems.append(f"{view.event_type}: no mapper")
        elif isinstance(outcome, NotReported):
            outcomes[view.event_type] = "skipped"
        elif isinstance(outcome, Mapped):
            outcomes[view.event_type] = outcome.method
            records[view.event_type] = outcome.records[-1]
            for record in outcome.records:
                missing = missing_required(outcome.method, {"unitID": UNIT, **record})
                if missing:
                    problems.append(f"{view.event_type} → {outcome.method} lacks {', '.join(missing)}")
    assert not problems, "\n".join(problems)
    assert {"visit.booked", "visit.accepted", "emr.signed", "prescription.submitted", "prescription.approved",
            "dispensing.dispensed", "dispensing.delivery_updated", "visit.completed", "rating.submitted",
            "complaint.filed", "complaint.dispute", "adverse_event.reported", "visit.cancelled",
            "visit.terminated", "prescription.rejected", "face.verification", "staff.record",
            "institution.licence", "institution.department"} <= set(outcomes)
    assert outcomes["prescription.approved"] == "uploadRecipeIndicators"
    assert outcomes["visit.completed"] == "uploadReferralIndicators"
    assert outcomes["emr.signed"] == "uploadElectMedicalRecord"
    assert outcomes["rating.submitted"] == "uploadBusinessInfoAfter"
    assert outcomes["complaint.filed"] == "skipped" and outcomes["complaint.dispute"] == "pushMedicalDispute"
    assert outcomes["adverse_event.reported"] == "pushMedicalDispute"
    # What the platform checks is really there, not just present: the revisit's diagnosis from the signed EMR,
    # the prescription's items from the signed document, the delivery's courier.
    revisit = records["visit.completed"]
    assert (revisit["thisDiagnosis"], revisit["mainDiagnoseCode"], revisit["answerFlag"]) == ("原发性高血压", "I10", "1")
    assert revisit["applyDate"] <= revisit["endDate"] and revisit["diseasesHistory"] == EMR["present_illness"]
    assert records["visit.terminated"]["refuseType"] == "first_visit_discovered"
    recipe = records["prescription.approved"]
    assert recipe["icdCode"] == "I10" and recipe["doctorSign"].count(".") == 2 and recipe["auditDoctor"]
    assert recipe["orderList"][0]["drcode"] == "C08CA01-tab-5mg" and recipe["orderList"][0]["admission"] == "口服"
    assert recipe["orderList"][0]["frequency"] == "qd" and recipe["orderList"][0]["useDays"] == 7
    assert records["emr.signed"]["mainDiagnoseCode"] == "I10"
    shipped = records["dispensing.delivery_updated"]
    assert (shipped["deliveryType"], shipped["deliveryFirm"], shipped["deliveryStatus"]) == ("1", "顺丰速运", "shipped")
    assert shipped["sendTime"] and shipped["deliveryDate"]
    assert records["rating.submitted"]["satisfaction"] == 5
    assert records["complaint.dispute"]["eventDescription"] == "等候时间较长"
