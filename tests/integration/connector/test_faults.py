"""Fault injection against the simulated platform: down for a while, HTTP 500, busy, a stalled answer and a
slow one (the data landed, the answer did not). Afterwards every event is on the platform exactly once by
business ID and version, in order per subject. A record the platform refuses is dead-lettered with the
platform's message and delivered once fixed and re-queued (SUP-02)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.supervision.operations import requeue
from hospital.config import Settings
from tests.integration.connector.conftest import (
    DispatcherFactory,
    Sim,
    add_department,
    deliver_all,
    emit_all,
    fresh_outbox,
    status_of,
)
from tests.integration.connector.test_delivery import STAFF, staff_payload

pytestmark = pytest.mark.requirement("SUP-02")

FAULTS = [
    {"kind": "down", "count": 5},  # down for a while: the next five requests find it down (HTTP 503)
    {"kind": "http500", "count": 3},
    {"kind": "busy", "count": 3},
    {"kind": "stall", "count": 1, "delay": 2.0},  # no answer within the client's 0.5 s, nothing stored
    {"kind": "slow", "count": 2, "delay": 2.0},  # stored, then no answer within 0.5 s: the retry is a duplicate
]


async def test_through_outage_errors_busy_and_timeouts_every_event_lands_once_and_in_order(
    settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    await add_department(settings, "03", "内科")
    dispatcher = await dispatchers()
    base = datetime.now(UTC) - timedelta(minutes=10)
    for wave, fault in enumerate(FAULTS):
        subjects = [str(uuid.uuid4()) for _ in range(3)]
        events = [("staff.record", "staff", s, staff_payload(s, f"v{v}")) for v in range(3) for s in subjects]
        await emit_all(settings, events, created_at=[base + timedelta(minutes=wave, seconds=i) for i in range(9)])
        await sim.fault(**fault)
        await deliver_all(dispatcher)
        await sim.clear_fault()
    stored = await sim.records(STAFF)
    assert len(stored) == 45
    assert Counter((r["businessId"], r["version"]) for r in stored).most_common(1)[0][1] == 1
    assert sum(r["duplicates"] for r in stored) >= 1  # the slow answers' data had landed: sent again, kept once
    by_subject: dict[str, list[str]] = {}
    for record in stored:
        by_subject.setdefault(record["businessId"], []).append(record["record"]["doctorTile"])
    assert all(titles == ["v0", "v1", "v2"] for titles in by_subject.values())
    faults = {r["fault"] for r in await sim.requests()}
    assert {"down", "http500", "busy"} <= faults
    rows = [r for r in await fresh_outbox(settings) if r.event_type == "staff.record"]
    assert {r.status for r in rows} == {"sent"} and max(r.attempts for r in rows) > 1


async def refused_staff_record(settings: Settings) -> None:
    # A department recorded with a blank name: the staff record's required subjectName comes out empty.
    await add_department(settings, "03", " ")
    staff = str(uuid.uuid4())
    await emit_all(settings, [("staff.record", "staff", staff, staff_payload(staff, "主治医师"))])


async def test_a_record_the_platform_refuses_with_minus_99_is_dead_lettered_then_delivered_once_fixed_and_requeued(
    settings: Settings, session: AsyncSession, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    await refused_staff_record(settings)
    dispatcher = await dispatchers(precheck=False)  # as for a province whose field list we do not hold
    await deliver_all(dispatcher)
    answered = [(r["msgCode"], r["msg"]) for r in await sim.requests() if r["method"] == STAFF]
    assert answered == [(-99, "subjectName")]
    (dead,) = [r for r in await fresh_outbox(settings) if r.event_type == "staff.record"]
    assert (dead.status, dead.last_error, dead.response["fields"]) == ("dead", "-99 subjectName", ["subjectName"])
    status = await status_of(dispatcher)
    assert status.counts["dead"] == 1 and status.dead[0]["error"] == "-99 subjectName"

    await add_department(settings, "03", "内科")  # the fix, in the hospital's own records
    assert await requeue(session, event=str(dead.seq)) == {"requeued": 1, "superseded": 0}
    await deliver_all(dispatcher)
    assert [r["record"]["subjectName"] for r in await sim.records(STAFF)] == ["内科"]
    assert [r.status for r in await fresh_outbox(settings) if r.event_type == "staff.record"] == ["sent"]


async def test_the_same_gap_is_caught_before_sending_and_nothing_reaches_the_platform(
    settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    await refused_staff_record(settings)
    await deliver_all(await dispatchers())
    (dead,) = [r for r in await fresh_outbox(settings) if r.event_type == "staff.record"]
    assert (dead.status, dead.last_error, dead.response["raw"]) == ("dead", "-99 subjectName", "checked before sending")
    assert [r for r in await sim.requests() if r["method"] == STAFF] == []


async def test_a_configuration_refusal_is_dead_lettered_and_delivered_after_the_key_is_fixed(
    settings: Settings, session: AsyncSession, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    await add_department(settings, "03", "内科")
    staff = str(uuid.uuid4())
    await emit_all(settings, [("staff.record", "staff", staff, staff_payload(staff, "主治医师"))])
    await deliver_all(await dispatchers(app_key="KEY-WRONG"))
    dead: list[Any] = [r for r in await fresh_outbox(settings) if r.status == "dead"]
    assert dead and all(r.response["fix"] == "configuration" and r.response["code"] == 40004 for r in dead), [
        (r.event_type, r.last_error, r.response) for r in dead]
    assert (await requeue(session, all_dead=True))["requeued"] == len(dead)
    await deliver_all(await dispatchers())
    assert {r.status for r in await fresh_outbox(settings)} <= {"sent", "skipped"}
    assert [r["businessId"] for r in await sim.records(STAFF)] == [staff]


async def test_a_request_refused_for_one_record_is_split_and_only_that_record_is_dead_lettered(
    settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    await add_department(settings, "03", "内科")
    staff = [str(uuid.uuid4()) for _ in range(4)]
    await emit_all(settings, [("staff.record", "staff", s, staff_payload(s, "" if i == 2 else "主治医师"))
                              for i, s in enumerate(staff)])
    await deliver_all(await dispatchers(precheck=False))
    answered = [(r["records"], r["msgCode"]) for r in await sim.requests() if r["method"] == STAFF]
    assert answered[0] == (4, -99) and sorted(answered[1:]) == [(1, -99), (1, 200), (1, 200), (1, 200)]
    outcome = {r.subject_id: (r.status, r.last_error) for r in await fresh_outbox(settings) if r.subject_type == "staff"}
    assert outcome[staff[2]] == ("dead", "-99 doctorTile")
    assert {outcome[s][0] for s in staff if s != staff[2]} == {"sent"}
