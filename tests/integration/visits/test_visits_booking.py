"""Issue 4 over HTTP on both databases: schedules, booking and its refusals, cancellation, the doctor's queue,
and no double booking under concurrent requests (REV-06, REV-01 … REV-05, INS-02)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.core.audit import Actor, AuditEntry
from hospital.core.errors import Conflict, InvalidTransition
from hospital.core.outbox import SEALED_KEY, OutboxEvent
from hospital.core.problems import status_for as problem_status
from hospital.patients.models import Patient
from hospital.visits.booking.models import Schedule, Visit
from hospital.visits.booking.service import BookingInput, book_visit
from hospital.visits.encounter.service.lifecycle import accept_visit
from tests.conftest import FakeClock
from tests.helpers import count_rows, event_payload, hospital_today, login_as
from tests.integration.visits.journey import (
    FEES,
    accept,
    book,
    demo_prior_id,
    doctor_in_session,
    file_prior,
    new_patient,
    publish,
    race,
    resident_id,
    schedule_of,
)

pytestmark = pytest.mark.requirement("REV-01", "REV-02", "REV-03", "REV-05", "REV-06", "INS-02", "STAFF-03")


async def test_a_doctor_publishes_schedules_in_their_own_departments_and_anyone_sees_the_free_places(
    around_china_midnight: datetime, client: AsyncTestClient[Any], demo: None
) -> None:
    doctor = await login_as(client, "doctor")
    published = await publish(client, doctor, capacity=3)
    assert published.status_code == 201, published.text
    assert published.json()["free_places"] == 3 and published.json()["department_name"] == "心血管内科专业"
    outside = await publish(client, doctor, department="07", days=4)
    assert outside.status_code == 403 and outside.json()["rule_id"] == "STAFF-03"
    overlapping = await publish(client, doctor, department="03.07")
    assert overlapping.status_code == 409 and overlapping.json()["rule_id"] == "REV-06"
    past = await publish(client, doctor, days=-1)
    assert past.status_code == 422 and past.json()["rule_id"] == "REV-06"
    patient = await login_as(client, "patient")
    assert (await publish(client, patient, days=5)).status_code == 403
    public = (await client.get("/api/schedules")).json()  # no token: the disclosure page reads it
    mine = next(s for s in public if s["schedule_id"] == published.json()["schedule_id"])
    assert mine["doctor_name"] == "王医生" and mine["doctor_title"] == "主任医师" and mine["modes"] == ["text", "video"]
    assert {s["department_code"] for s in public} == {"03.04", "03.07"}


async def test_a_booking_takes_a_place_reaches_the_doctors_queue_and_is_reported(
    around_china_midnight: datetime,
    client: AsyncTestClient[Any], session: AsyncSession, clock: FakeClock, demo: None, settings: Settings) -> None:
    patient = await login_as(client, "patient")
    schedule = await schedule_of(client)
    booked = await book(client, patient, schedule["schedule_id"], await demo_prior_id(client, patient), mode="text")
    assert booked.status_code == 201, booked.text
    visit = booked.json()
    assert visit["state"] == "requested" and visit["queue_number"] == 1 and visit["allowed_actions"] == ["cancel"]
    assert visit["prior_diagnosis"]["icd10_code"] == "I10" and visit["doctor_name"] == "王医生"
    assert (await schedule_of(client))["free_places"] == schedule["free_places"] - 1
    doctor = await login_as(client, "doctor")
    tomorrow = (date.fromisoformat(schedule["starts_at"][:10])).isoformat()
    queue = (await client.get("/api/doctor/queue", headers=doctor, params={"day": tomorrow})).json()
    assert [v["visit_id"] for v in queue] == [visit["visit_id"]]
    assert queue[0]["patient"] == {"name": "张三", "sex": "female", "age": visit["patient"]["age"]}
    assert "11010519491231002X" not in str(queue)  # the doctor never sees the ID number
    assert [v["visit_id"] for v in (await client.get("/api/visits", headers=doctor)).json()] == [visit["visit_id"]]
    event = (await session.execute(select(OutboxEvent).where(OutboxEvent.event_type == "visit.booked"))).scalar_one()
    assert event.subject_id == visit["visit_id"] and event.payload["state"] == "requested"
    # The ID numbers and the diagnoses go to the platform, sealed at rest in the outbox (REC-03).
    # (Outside the sealed blob: its base64 holds any three letters by chance, "I10" about once in 250 runs.)
    in_clear = str({k: v for k, v in event.payload.items() if k != SEALED_KEY})
    assert SEALED_KEY in event.payload and "11010519491231002X" not in str(event.payload) and "I10" not in in_clear
    payload = event_payload(event, settings)
    assert payload["patient_id_number"] == "11010519491231002X" and payload["revisit_declared"] is True
    assert payload["prior_diagnosis"]["icd10_code"] == "I10" and payload["main_diagnosis_code"] == "I10"
    assert payload["doctor_id_number"] == "110105198001011238" and payload["mode"] == "text"
    audited = (await session.execute(select(AuditEntry).where(AuditEntry.action == "visit.booked"))).scalar_one()
    assert audited.rule_id == "REV-06" and audited.subject_id == visit["visit_id"]


async def test_a_visit_cannot_be_booked_without_an_eligible_prior_diagnosis(
    around_china_midnight: datetime,
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    patient = await login_as(client, "patient")
    schedule = (await schedule_of(client))["schedule_id"]
    long_ago = (hospital_today() - timedelta(days=400)).isoformat()
    expired = (await file_prior(client, patient, diagnosed_on=long_ago)).json()["prior_diagnosis_id"]
    cholera = await file_prior(client, patient, icd10_code="A00.9", diagnosis_name="霍乱")  # refused at filing already
    assert cholera.status_code == 422 and cholera.json()["rule_id"] == "REV-03"
    diabetes = (await file_prior(client, patient, icd10_code="E11.9", diagnosis_name="2型糖尿病")).json()["prior_diagnosis_id"]
    other = await new_patient(client, "钱七", date(1966, 6, 6), "13911110004")
    others = (await file_prior(client, other)).json()["prior_diagnosis_id"]
    before = await count_rows(session, Visit, Schedule, AuditEntry, OutboxEvent)
    cases = [(None, 422, "REV-01"), (expired, 422, "REV-02"),
             (diabetes, 422, "REV-02"), (others, 404, None)]  # diabetes is not served by cardiology
    for prior, status, rule_id in cases:
        refused = await book(client, patient, schedule, prior)
        assert refused.status_code == status, (prior, refused.text)
        assert refused.json().get("rule_id") == rule_id, refused.text
    assert "older than the 12-month window" in (await book(client, patient, schedule, expired)).json()["detail"]
    assert await count_rows(session, Visit, Schedule, AuditEntry, OutboxEvent) == before


async def test_a_department_withdrawn_from_the_licence_takes_no_bookings(client: AsyncTestClient[Any],
                                                                          session: AsyncSession, demo: None) -> None:
    patient = await login_as(client, "patient")
    prior = await demo_prior_id(client, patient)
    schedule = (await schedule_of(client))["schedule_id"]
    admin = await login_as(client, "admin")
    for code, name in (("03", "内科"), ("03.04", "心血管内科专业")):
        withdrawn = await client.put(f"/api/institution/departments/{code}", headers=admin,
                                     json={"name": name, "approved": False})
        assert withdrawn.status_code == 200
    before = await count_rows(session, Visit)
    refused = await book(client, patient, schedule, prior)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "INS-02"
    assert await count_rows(session, Visit) == before


async def test_a_full_schedule_refuses_the_next_patient_until_a_cancellation_frees_the_place(
    around_china_midnight: datetime,
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    schedule = (await publish(client, await login_as(client, "doctor"), capacity=1)).json()["schedule_id"]
    first = await login_as(client, "patient")
    second = await new_patient(client, "孙八", date(1960, 8, 8), "13911110005")
    second_prior = (await file_prior(client, second)).json()["prior_diagnosis_id"]
    taken = await book(client, first, schedule, await demo_prior_id(client, first))
    assert taken.status_code == 201
    twice = await book(client, first, schedule, await demo_prior_id(client, first))
    assert twice.status_code == 409 and twice.json()["rule_id"] == "REV-06" and "already" in twice.json()["detail"]
    full = await book(client, second, schedule, second_prior)
    assert full.status_code == 409 and full.json()["rule_id"] == "REV-06" and "full" in full.json()["detail"]
    visit_id = taken.json()["visit_id"]
    cancelled = await client.post(f"/api/visits/{visit_id}/cancel", headers=first, json={"reason": "出差"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    again = await client.post(f"/api/visits/{visit_id}/cancel", headers=first)
    assert again.status_code == 409 and again.json()["current_state"] == "cancelled"
    assert (await book(client, second, schedule, second_prior)).json()["queue_number"] == 2
    row = await session.get(Schedule, uuid.UUID(schedule))
    assert row is not None and row.booked == 1
    assert (await session.execute(select(AuditEntry).where(AuditEntry.action == "visit.cancelled"))).scalar_one()


async def test_a_child_under_six_is_booked_only_with_a_guardian_present(
    around_china_midnight: datetime,
    client: AsyncTestClient[Any], session: AsyncSession, demo: None, settings: Settings) -> None:
    child = await new_patient(client, "小明", hospital_today() - timedelta(days=4 * 365), "13911110006")
    prior = (await file_prior(client, child, icd10_code="E10.9", diagnosis_name="1型糖尿病")).json()["prior_diagnosis_id"]
    schedule = (await schedule_of(client, "03.07"))["schedule_id"]
    mother = resident_id(date(1990, 3, 1), "222")
    guardian: dict[str, Any] = {"name": "小明妈妈", "id_number": mother, "relationship": "parent",
                                "present_confirmed": True, "mobile": "13911112222"}
    for missing in (None, {**guardian, "present_confirmed": False}, {**guardian, "id_number": resident_id(date(2015, 1, 1))}):
        refused = await book(client, child, schedule, prior, guardian=missing)
        assert refused.status_code == 422 and refused.json()["rule_id"] == "REV-05", refused.text
    booked = await book(client, child, schedule, prior, guardian=guardian)
    assert booked.status_code == 201, booked.text
    assert booked.json()["guardian"]["id_number"] == mother[:6] + "********" + mother[-4:]
    sealed = (await session.execute(select(OutboxEvent.payload).where(OutboxEvent.event_type == "visit.booked"))).scalar_one()
    assert mother not in str(sealed) and "13911112222" not in str(sealed)
    payload = event_payload(sealed, settings)
    assert payload["guardian"]["id_number"] == mother and payload["guardian"]["mobile"] == "13911112222"
    assert payload["patient_age"] == 3 or payload["patient_age"] == 4


async def test_two_patients_racing_for_the_last_place_get_one_booking_and_one_409(
    around_china_midnight: datetime,
    client: AsyncTestClient[Any], session: AsyncSession, settings: Settings, ctx: HospitalContext, demo: None
) -> None:
    schedule = uuid.UUID((await publish(client, await login_as(client, "doctor"), capacity=1)).json()["schedule_id"])
    second = await new_patient(client, "周九", date(1958, 9, 9), "13911110007")
    filed = (await file_prior(client, second)).json()["prior_diagnosis_id"]
    first_prior = await demo_prior_id(client, await login_as(client, "patient"))
    users = (await session.execute(select(Patient.user_id).order_by(Patient.created_at))).scalars().all()  # type: ignore[arg-type]
    await session.rollback()
    bookings = [(users[0], first_prior), (users[1], filed)]

    def booking_of(user_id: uuid.UUID, prior: str) -> Any:
        return lambda s: book_visit(s, ctx, Actor(user_id, "patient", "", "127.0.0.1"), user_id,
                                    BookingInput(schedule, uuid.UUID(prior), "video", fee_cny=FEES["video"],
                                                 fee_accepted=True))

    outcomes = await race(settings, *(booking_of(u, p) for u, p in bookings))
    booked = [o for o in outcomes if isinstance(o, Visit)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(booked) == 1 and len(refused) == 1, outcomes
    assert refused[0].extra["rule_id"] == "REV-06" and "full" in refused[0].detail
    assert problem_status(refused[0]) == 409
    visits = (await session.execute(select(Visit).where(Visit.schedule_id == schedule))).scalars().all()
    row = await session.get(Schedule, schedule)
    assert len(visits) == 1 and row is not None and row.booked == 1


async def test_a_doctor_accepting_the_same_visit_twice_at_once_accepts_it_once(
    client: AsyncTestClient[Any], session: AsyncSession, settings: Settings, ctx: HospitalContext, demo: None
) -> None:
    patient = await login_as(client, "patient")
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], await demo_prior_id(client, patient))
    visit_id = uuid.UUID(booked.json()["visit_id"])
    headers = await doctor_in_session(client)
    doctor = ctx.tokens.decode(headers["Authorization"][7:])
    assert (await client.get(f"/api/visits/{visit_id}/prior-diagnosis/document", headers=headers)).status_code == 200

    def accepting(s: AsyncSession) -> Any:
        return accept_visit(s, ctx, Actor(doctor.user_id, "doctor", "", "127.0.0.1"), doctor, visit_id, True)

    outcomes = await race(settings, accepting, accepting)
    refused = [o for o in outcomes if isinstance(o, InvalidTransition)]
    assert sum(isinstance(o, Visit) for o in outcomes) == 1 and len(refused) == 1, outcomes
    assert refused[0].current_state == "accepted" and problem_status(refused[0]) == 409
    accepted = (await session.execute(select(OutboxEvent).where(OutboxEvent.event_type == "visit.accepted"))).scalars().all()
    audited = (await session.execute(select(AuditEntry).where(AuditEntry.action == "visit.accepted"))).scalars().all()
    assert len(accepted) == 1 and len(audited) == 1


async def test_a_withdrawn_schedule_cancels_and_notifies_its_booked_patients(
    client: AsyncTestClient[Any], session: AsyncSession, settings: Settings, demo: None
) -> None:
    patient = await login_as(client, "patient")
    schedule = await schedule_of(client)
    booked = await book(client, patient, schedule["schedule_id"], await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text
    other = await new_patient(client, "郑十一", date(1970, 11, 11), "13911110031")
    filed = await file_prior(client, other)
    second = await book(client, other, schedule["schedule_id"], filed.json()["prior_diagnosis_id"])
    assert second.status_code == 201, second.text
    doctor = await login_as(client, "doctor")
    url = f"/api/schedules/{schedule['schedule_id']}/withdrawal"
    before = await count_rows(session, Visit, Schedule, AuditEntry, OutboxEvent)
    for who, body, status in ((patient, {"reason": "医生临时出诊"}, 403), (doctor, {"reason": ""}, 400),
                              (doctor, {}, 400)):
        refused = await client.post(url, headers=who, json=body)
        assert refused.status_code == status, refused.text
    assert await count_rows(session, Visit, Schedule, AuditEntry, OutboxEvent) == before
    withdrawn = await client.post(url, headers=doctor, json={"reason": "医生参加紧急会诊"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert sorted(withdrawn.json()["cancelled_visits"]) == sorted([booked.json()["visit_id"], second.json()["visit_id"]])
    for who, visit in ((patient, booked), (other, second)):
        seen = (await client.get(f"/api/visits/{visit.json()['visit_id']}", headers=who)).json()
        assert seen["state"] == "cancelled" and "医生参加紧急会诊" in seen["notice"]["zh"]
        assert "停诊" in seen["notice"]["zh"] and seen["notice"]["rule_id"] == "REV-06"
    assert schedule["schedule_id"] not in {s["schedule_id"] for s in (await client.get("/api/schedules")).json()}
    again = await book(client, patient, schedule["schedule_id"], await demo_prior_id(client, patient))
    assert again.status_code == 422 and again.json()["rule_id"] == "REV-06"
    audits = (await session.execute(select(AuditEntry).where(AuditEntry.action.in_(  # type: ignore[attr-defined]
        ["visit.cancelled", "schedule.withdrawn"])))).scalars().all()
    assert sorted(a.action for a in audits) == ["schedule.withdrawn", "visit.cancelled", "visit.cancelled"]
    reported = (await session.execute(select(OutboxEvent).where(OutboxEvent.event_type == "visit.cancelled"))).scalars().all()
    assert {e.subject_id for e in reported} == {booked.json()["visit_id"], second.json()["visit_id"]}
    assert (await client.post(url, headers=doctor, json={"reason": "再次停诊"})).status_code == 409


async def test_the_queue_position_moves_as_the_visits_before_it_are_taken_and_end(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    """REV-06: the patient's visit and the doctor's queue give the place as it stands now, not the number drawn."""
    schedule = await schedule_of(client)
    first = await new_patient(client, "李四", date(1980, 5, 6), "13900139000")
    assert (await file_prior(client, first)).status_code == 201
    first_prior = (await client.get("/api/prior-diagnoses", headers=first)).json()[0]["prior_diagnosis_id"]
    earlier = await book(client, first, schedule["schedule_id"], first_prior)
    assert earlier.status_code == 201, earlier.text
    patient = await login_as(client, "patient")
    booked = await book(client, patient, schedule["schedule_id"], await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text
    visit_id = booked.json()["visit_id"]
    doctor = await doctor_in_session(client)
    day = schedule["starts_at"][:10]

    async def places() -> tuple[Any, Any]:
        mine = {v["visit_id"]: v for v in (await client.get("/api/visits", headers=patient)).json()}[visit_id]
        queue = {v["visit_id"]: v for v in (await client.get("/api/doctor/queue", headers=doctor,
                                                              params={"day": day})).json()}
        return mine["queue"], queue[visit_id]["queue"]

    assert await places() == ({"position": 2, "ahead": 1, "with_doctor_ahead": 0},) * 2
    assert (await accept(client, doctor, earlier.json()["visit_id"])).status_code == 200
    assert await places() == ({"position": 1, "ahead": 1, "with_doctor_ahead": 1},) * 2  # the visit before is taken
    cancelled = await client.post(f"/api/visits/{earlier.json()['visit_id']}/cancel", headers=first, json={"reason": ""})
    assert cancelled.status_code == 200, cancelled.text
    assert await places() == ({"position": 1, "ahead": 0, "with_doctor_ahead": 0},) * 2  # and gone
    assert (await accept(client, doctor, visit_id)).status_code == 200
    assert await places() == (None, None)  # taken: it no longer waits
