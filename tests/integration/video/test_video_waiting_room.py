"""The waiting room (issue 21): the patient sees their place in the schedule's queue and the doctor's arrival in the
call; the doctor sees whose patient waits in the call for them, and since when. Only the visit's patient and
doctor see a visit's waiting room (SEC-01)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from call_steps import eventually, join_call
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from video_browsers import DOCTOR_LUMA, PATIENT_LUMA, wait_until

from hospital.context import HospitalContext
from tests.conftest import FakeClock
from tests.helpers import login_as
from tests.integration.visits import journey
from tests.integration.visits.journey import accept, book, demo_prior_id, doctor_in_session, new_patient, schedule_of

pytestmark = pytest.mark.asyncio


async def test_the_patient_sees_the_queue_and_the_doctor_arrive_and_the_doctor_sees_who_waits_and_how_long(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, clock: FakeClock, browsers: Any,
    demo: None,
) -> None:
    first, earlier_id, patient, visit_id = await _two_in_queue(client)
    base = f"/api/visits/{visit_id}/call/waiting-room"

    room = (await client.get(base, headers=patient)).json()
    assert (room["queue_number"], room["ahead"], room["position"]) == (2, 1, 2)  # one visit before this one
    assert room["doctor_in_call"] is False and room["patient_waiting_since"] is None
    assert (await client.get(base, headers=first)).status_code == 404  # another patient's visit: not theirs
    doctor = await doctor_in_session(client)
    assert (await client.post(f"/api/visits/{earlier_id}/cancel", headers=first,
                              json={"reason": ""})).status_code == 200
    assert (await client.get(base, headers=patient)).json()["ahead"] == 0  # the visit before left the queue
    assert (await accept(client, doctor, visit_id)).status_code == 200

    # The patient waits in the call: the doctor's list shows the visit and since when.
    patient_browser = browsers(PATIENT_LUMA)
    assert (await join_call(client, patient_browser, visit_id, patient)).status_code == 200
    waiting = await eventually(session, lambda _: _waiting(client, doctor), lambda rows: bool(rows))
    [row] = waiting
    assert row["visit_id"] == visit_id and row["queue_number"] == 2
    assert (await client.get("/api/doctor/call-waiting", headers=patient)).status_code == 403  # doctors only
    since = datetime.fromisoformat(row["waiting_since"])
    clock.advance(seconds=90)
    [row] = await _waiting(client, doctor)
    assert row["waited_s"] == pytest.approx((clock.current - since).total_seconds(), abs=1)
    assert row["waited_s"] >= 90
    room = (await client.get(base, headers=patient)).json()
    assert room["patient_waiting_since"] == row["waiting_since"] and room["doctor_in_call"] is False

    # The doctor arrives: the patient's page can tell, and nobody waits any more.
    doctor_browser = browsers(DOCTOR_LUMA)
    assert (await join_call(client, doctor_browser, visit_id, doctor)).status_code == 200
    await wait_until(lambda: len(patient_browser.received) >= 3)
    room = await eventually(session, lambda _: _room(client, base, patient), lambda r: r["doctor_joined_at"] is not None)
    assert room["doctor_in_call"] is True and room["state"] == "in_progress" and room["patient_waiting_since"] is None
    assert await _waiting(client, doctor) == []


async def test_the_waiting_room_position_moves_when_the_visit_ahead_is_accepted_as_the_visit_list_says(
    client: AsyncTestClient[Any], demo: None
) -> None:
    """Issue 16 (REV-06): one queue position. The waiting room gives the place the visit list gives
    (`booking.rules.queue_place`): a visit ahead taken by the doctor no longer counts before this one."""
    _, earlier_id, patient, visit_id = await _two_in_queue(client)
    base = f"/api/visits/{visit_id}/call/waiting-room"

    async def places() -> tuple[Any, Any]:
        room = (await client.get(base, headers=patient)).json()
        listed = {v["visit_id"]: v for v in (await client.get("/api/visits", headers=patient)).json()}[visit_id]
        place = None if room["position"] is None else {k: room[k] for k in ("position", "ahead", "with_doctor_ahead")}
        return place, listed["queue"]

    assert await places() == ({"position": 2, "ahead": 1, "with_doctor_ahead": 0},) * 2
    doctor = await doctor_in_session(client)
    assert (await accept(client, doctor, earlier_id)).status_code == 200
    assert await places() == ({"position": 1, "ahead": 1, "with_doctor_ahead": 1},) * 2  # next: the one ahead is taken
    assert (await accept(client, doctor, visit_id)).status_code == 200
    assert await places() == (None, None)  # taken itself: it no longer waits in the queue


async def _two_in_queue(client: AsyncTestClient[Any]) -> tuple[dict[str, str], str, dict[str, str], str]:
    """Two visits booked into the demo schedule: another patient's first (queue number 1), then the demo
    patient's (2). Answers the other patient's headers and visit, then the demo patient's."""
    schedule = (await schedule_of(client))["schedule_id"]
    first = await new_patient(client, "李四", date(1980, 5, 6), "13900139000")
    assert (await journey.file_prior(client, first)).status_code == 201
    first_prior = (await client.get("/api/prior-diagnoses", headers=first)).json()[0]["prior_diagnosis_id"]
    earlier = await book(client, first, schedule, first_prior)
    assert earlier.status_code == 201, earlier.text
    patient = await login_as(client, "patient")
    booked = await book(client, patient, schedule, await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text
    return first, str(earlier.json()["visit_id"]), patient, str(booked.json()["visit_id"])


async def _waiting(client: AsyncTestClient[Any], doctor: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/api/doctor/call-waiting", headers=doctor)
    assert response.status_code == 200, response.text
    return list(response.json())


async def _room(client: AsyncTestClient[Any], base: str, patient: dict[str, str]) -> dict[str, Any]:
    return dict((await client.get(base, headers=patient)).json())
