"""The events the areas really emit map to complete platform records (SUP-02).

A whole day's journey over HTTP — book, accept, start, sign the record, prescribe, approve, dispense, ship,
complete, rate, complain — then every outbox event goes through the mapping registry exactly as the
dispatcher reads it (sealed part opened, people looked up in its directory).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from connectors.supervision.gateway.methods import missing_required
from connectors.supervision.mapping import Mapped, MappingFailed, NotReported, UnmappedEvent, map_event
from hospital.config import Settings
from hospital.contracts import EVENT_PAYLOADS
from tests.conftest import FakeClock
from tests.helpers import login_as
from tests.integration.connector.conftest import UNIT, DispatcherFactory
from tests.integration.connector.real_day import a_real_day, mapped_views
from tests.integration.visits.journey import EMR, accept, book, demo_prior_id, doctor_in_session, publish

pytestmark = pytest.mark.requirement("SUP-02", "SUP-03")


async def test_every_event_of_a_real_day_maps_to_a_complete_platform_record(
    china_after_midnight: datetime,
    client: AsyncTestClient[Any], clock: FakeClock, settings: Settings, demo: None, dispatchers: DispatcherFactory
) -> None:
    await a_real_day(client, clock)
    dispatcher = await dispatchers()
    views = await mapped_views(settings, dispatcher)
    # Every event of the day has a contract, and what the outbox holds reads back as it (emit conformed it).
    assert all(type(v.data) is EVENT_PAYLOADS[v.event_type] for v in views)
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
    assert {"visit.booked", "visit.accepted", "visit.started", "visit.consult_ended", "emr.signed",
            "prescription.submitted", "prescription.approved", "prescription.verified", "schedule.published",
            "dispensing.dispensed", "dispensing.delivery_updated", "visit.completed", "rating.submitted",
            "complaint.filed", "complaint.dispute", "adverse_event.reported", "visit.cancelled",
            "visit.terminated", "prescription.rejected", "face.verification", "staff.record",
            "institution.licence", "institution.department"} <= set(outcomes)
    assert outcomes == {**outcomes, "visit.booked": "uploadAppointRecord", "visit.accepted": "uploadConsultIndicators",
                        "visit.started": "uploadMeetClinicIndicators", "visit.consult_ended": "uploadConsultIndicators",
                        "schedule.published": "openDoctorBusiness", "prescription.submitted": "uploadRecipeIndicators",
                        "prescription.approved": "uploadRecipeAuditIndicators",
                        "prescription.rejected": "uploadRecipeAuditIndicators",
                        "prescription.verified": "uploadRecipeVerificationIndicators",
                        "visit.completed": "uploadReferralIndicators", "emr.signed": "uploadElectMedicalRecord",
                        "rating.submitted": "uploadBusinessInfoAfter", "complaint.filed": "pushMedicalDispute",
                        "complaint.dispute": "pushMedicalDispute", "adverse_event.reported": "pushMedicalDispute"}
    # What the platform checks is really there, not just present: the revisit's diagnosis from the signed EMR,
    # the prescription's items from the signed document, the delivery's courier.
    revisit = records["visit.completed"]
    assert (revisit["thisDiagnosis"], revisit["mainDiagnoseCode"], revisit["answerFlag"]) == ("原发性高血压", "I10", "1")
    assert revisit["applyDate"] <= revisit["endDate"] and revisit["diseasesHistory"] == EMR["present_illness"]
    assert records["visit.terminated"]["refuseType"] == "first_visit_discovered"
    recipe = records["prescription.submitted"]
    assert recipe["icdCode"] == "I10" and recipe["doctorSign"].count(".") == 2 and recipe["CAInfo"]
    audit = records["prescription.approved"]
    assert audit["auditDoctor"] and audit["auditDoctorSign"].count(".") == 2 and audit["auditStatus"] == "1"
    assert audit["rationalFlag"] in ("0", "1") and (audit["rationalFlag"] == "0") == bool(audit["rationalIssues"])
    assert records["prescription.rejected"]["auditStatus"] == "0" and records["prescription.rejected"]["auditOpinion"]
    assert recipe["orderList"][0]["drcode"] == "C08CA01-tab-5mg" and recipe["orderList"][0]["admission"] == "口服"
    assert recipe["orderList"][0]["frequency"] == "qd" and recipe["orderList"][0]["useDays"] == 7
    assert records["emr.signed"]["mainDiagnoseCode"] == "I10"
    shipped = records["dispensing.delivery_updated"]
    assert (shipped["deliveryType"], shipped["deliveryFirm"], shipped["deliveryStatus"]) == ("1", "顺丰速运", "shipped")
    assert shipped["sendTime"] and shipped["deliveryDate"]
    assert records["rating.submitted"]["satisfaction"] == 5
    assert records["complaint.dispute"]["eventDescription"] == "等候时间较长"
    assert (records["complaint.filed"]["eventStatus"], records["complaint.dispute"]["eventStatus"]) == ("filed", "dispute")


async def test_a_visit_withdrawn_after_it_was_answered_ends_its_consult_and_one_withdrawn_before_cancels_the_booking(
    client: AsyncTestClient[Any], settings: Settings, demo: None, dispatchers: DispatcherFactory
) -> None:
    patient, doctor = await login_as(client, "patient"), await doctor_in_session(client)
    prior = await demo_prior_id(client, patient)
    visits = []
    for hour in (9, 14):
        published = await publish(client, doctor, hour=hour)
        assert published.status_code == 201, published.text
        booked = await book(client, patient, published.json()["schedule_id"], prior)
        assert booked.status_code == 201, booked.text
        visits.append(booked.json()["visit_id"])
    answered, unanswered = visits
    assert (await accept(client, doctor, answered)).status_code == 200
    for visit in visits:
        assert (await client.post(f"/api/visits/{visit}/cancel", headers=patient, json={})).status_code == 200
    dispatcher = await dispatchers()
    records = {}
    for view in await mapped_views(settings, dispatcher):
        if view.subject_id in visits and view.event_type in ("visit.cancelled", "visit.consult_ended"):
            outcome = map_event(view, dispatcher.map_context())
            assert isinstance(outcome, Mapped)
            records[(view.event_type, view.subject_id)] = (outcome.method, outcome.records[0])
    assert set(records) == {("visit.cancelled", answered), ("visit.consult_ended", answered),
                            ("visit.cancelled", unanswered)}
    method, consult = records[("visit.consult_ended", answered)]
    assert (method, consult["consultStatus"]) == ("uploadConsultIndicators", "3") and consult["endDate"]
    method, appointment = records[("visit.cancelled", unanswered)]
    assert (method, appointment["appointStatus"]) == ("uploadAppointRecord", "0")
