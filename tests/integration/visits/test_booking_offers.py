"""Booking offers only what it will accept (INS-03, REV-02, REV-06): each upcoming schedule says whether the
patient's diagnosis can be booked into it and why not; a schedule's fees are the disclosure's; the fee shown is
the fee accepted and recorded. What the page hides, the API still refuses, leaving nothing behind."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.core.audit import AuditEntry
from hospital.core.clock import CHINA_TIME
from hospital.visits.booking.models import Visit
from tests.helpers import count_rows, hospital_today, login_as
from tests.integration.visits.journey import FEES, book, demo_prior_id, file_prior, new_patient

pytestmark = pytest.mark.requirement("INS-03", "REV-01", "REV-02", "REV-06")


async def _bookable(client: AsyncTestClient[Any], patient: dict[str, str], prior: str) -> dict[str, Any]:
    response = await client.get("/api/schedules/bookable", headers=patient, params={"prior_diagnosis_id": prior})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_each_schedule_says_whether_the_diagnosis_can_be_booked_into_it_and_why_not(
        client: AsyncTestClient[Any], session: AsyncSession, demo: None) -> None:
    patient = await login_as(client, "patient")
    prior = await demo_prior_id(client, patient)
    offer = await _bookable(client, patient, prior)
    by_department = {s["department_code"]: s for s in offer["schedules"]}
    assert by_department["03.04"]["eligible"] is True and by_department["03.04"]["reason"] is None
    refused = by_department["03.07"]  # the demo's hypertension is not treated in this department
    assert refused["eligible"] is False and refused["reason"]["rule_id"] == "REV-02"
    assert refused["reason"]["code"] == "department" and refused["reason"]["params"]["serving"]
    # The price each mode costs is the disclosure's fee (one source), not the schedule's own.
    assert all(s["prices"] == {m: FEES[m] for m in s["modes"]} for s in offer["schedules"])

    before = await count_rows(session, Visit)
    ineligible = await book(client, patient, refused["schedule_id"], prior)
    assert ineligible.status_code == 422 and ineligible.json()["rule_id"] == "REV-02", ineligible.text
    assert await count_rows(session, Visit) == before  # what the page hides, the API refuses, leaving nothing


async def test_a_mode_the_schedule_does_not_offer_or_a_fee_not_published_and_accepted_is_refused(
        client: AsyncTestClient[Any], session: AsyncSession, demo: None) -> None:
    doctor = await login_as(client, "doctor")
    day = hospital_today() + timedelta(days=5)
    starts = datetime(day.year, day.month, day.day, 15, tzinfo=CHINA_TIME)
    published = await client.post("/api/schedules", headers=doctor, json={
        "department_code": "03.04", "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "capacity": 5, "modes": ["video"]})
    assert published.status_code == 201, published.text
    schedule = published.json()
    assert schedule["prices"] == {"video": "30.00"}  # the fee table's video fee; no price of its own
    own_price = await client.post("/api/schedules", headers=doctor, json={
        "department_code": "03.04", "starts_at": (starts + timedelta(hours=2)).isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(), "capacity": 5, "price_cny": "25.00"})
    assert own_price.status_code == 400, own_price.text  # a doctor cannot set a price the disclosure contradicts

    patient = await login_as(client, "patient")
    prior = await demo_prior_id(client, patient)
    before = await count_rows(session, Visit)
    text = await book(client, patient, schedule["schedule_id"], prior, mode="text")
    assert text.status_code == 422 and text.json()["rule_id"] == "REV-06", text.text
    for wrong in ({"fee_cny": "25.00"}, {"fee_cny": "20.00"}, {"fee_accepted": False}, {"fee_cny": ""}):
        refused = await book(client, patient, schedule["schedule_id"], prior, **wrong)
        assert refused.status_code == 422 and refused.json()["rule_id"] == "INS-03", (wrong, refused.text)
        assert refused.json()["published_fee_cny"] == "30.00"
    assert await count_rows(session, Visit) == before

    booked = await book(client, patient, schedule["schedule_id"], prior)
    assert booked.status_code == 201, booked.text
    assert booked.json()["fee_cny"] == "30.00" and booked.json()["fee_accepted_at"]


async def test_an_unused_diagnosis_is_withdrawn_and_a_used_one_is_refused(
        client: AsyncTestClient[Any], session: AsyncSession, demo: None) -> None:
    patient = await login_as(client, "patient")
    spare = await file_prior(client, patient, changes={"diagnosed_on": (hospital_today() - timedelta(days=30)).isoformat()})
    assert spare.status_code == 201, spare.text
    spare_id = spare.json()["prior_diagnosis_id"]
    withdrawn = await client.post(f"/api/prior-diagnoses/{spare_id}/withdrawal", headers=patient)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"], withdrawn.text
    listed = {p["prior_diagnosis_id"] for p in (await client.get("/api/prior-diagnoses", headers=patient)).json()}
    assert spare_id not in listed
    audited = (await session.execute(select(AuditEntry).where(AuditEntry.action == "prior_diagnosis.withdrawn"))).scalar_one()
    assert audited.subject_id == spare_id and audited.rule_id == "REV-01"
    await session.rollback()
    schedule = next(s for s in (await _bookable(client, patient, spare_id))["schedules"] if s["eligible"])
    before = await count_rows(session, Visit)
    on_withdrawn = await book(client, patient, schedule["schedule_id"], spare_id)
    assert on_withdrawn.status_code == 422 and on_withdrawn.json()["rule_id"] == "REV-01", on_withdrawn.text
    again = await client.post(f"/api/prior-diagnoses/{spare_id}/withdrawal", headers=patient)
    assert again.status_code == 422 and again.json()["rule_id"] == "REV-01"

    used = await demo_prior_id(client, patient)
    assert (await book(client, patient, schedule["schedule_id"], used)).status_code == 201
    refused = await client.post(f"/api/prior-diagnoses/{used}/withdrawal", headers=patient)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "REV-01", refused.text
    assert await count_rows(session, Visit) == {"visit": before["visit"] + 1}
    assert used in {p["prior_diagnosis_id"] for p in (await client.get("/api/prior-diagnoses", headers=patient)).json()}
    other = await new_patient(client, "李四", date(1980, 5, 6), "13900139000")
    assert (await client.post(f"/api/prior-diagnoses/{used}/withdrawal", headers=other)).status_code == 404
