"""Two dispatchers on PostgreSQL share one outbox (FOR UPDATE SKIP LOCKED and leases): 1,000 events, each
sent exactly once, in order per subject; a record that waits for a method waits for an earlier event another
dispatcher is still routing only when that event's type may give the method. A PostgreSQL feature, so it runs
on PostgreSQL only; SQLite serialises its writers and is documented as one dispatcher (docs/connector.md)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from connectors.supervision.queue import WAITING_NOTE
from hospital.config import Settings
from hospital.contracts.quality import ComplaintFiled
from hospital.core.outbox import OutboxEvent
from hospital.db import create_engine, session_factory
from tests.integration.connector.conftest import (
    DeadlineTransport,
    DispatcherFactory,
    Sim,
    add_department,
    deliver_all,
    emit_all,
    fresh_outbox,
)
from tests.integration.connector.test_delivery import LICENCE, STAFF, staff_payload

pytestmark = pytest.mark.requirement("SUP-02")

SUBJECTS, VERSIONS = 250, 4


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_dispatchers_deliver_a_thousand_events_with_no_duplicate_sends(
    settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    await add_department(settings, "03", "内科")
    subjects = [str(uuid.uuid4()) for _ in range(SUBJECTS)]
    base = datetime.now(UTC) - timedelta(minutes=5)
    events = [("staff.record", "staff", s, staff_payload(s, f"v{v}")) for v in range(VERSIONS) for s in subjects]
    await emit_all(settings, events, created_at=[base + timedelta(seconds=i // SUBJECTS) for i in range(len(events))])

    sent: Counter[str] = Counter()
    app = sim.http._transport.app  # type: ignore[attr-defined]
    clients = []
    for name in ("one", "two"):
        async def count(request: httpx.Request, name: str = name) -> None:
            if request.headers.get("X-Service-Method") == STAFF:
                sent[name] += 1
        clients.append(httpx.AsyncClient(transport=DeadlineTransport(app, 5.0), base_url="http://sim",
                                         event_hooks={"request": [count]}))
    try:
        one, two = await asyncio.gather(*(dispatchers(http=client, name=f"dispatcher-{n}", batch_size=32)
                                          for client, n in zip(clients, ("one", "two"), strict=True)))
        await deliver_all(one, two, settle_s=90)
    finally:
        for client in clients:
            await client.aclose()

    assert sent["one"] > 0 and sent["two"] > 0  # both took part
    requests = [r for r in await sim.requests() if r["method"] == STAFF]
    assert sum(r["records"] for r in requests) == SUBJECTS * VERSIONS  # every event sent once, none twice
    assert {r["msgCode"] for r in requests} == {200}
    stored = await sim.records(STAFF)
    assert len(stored) == SUBJECTS * VERSIONS and sum(r["duplicates"] for r in stored) == 0
    by_subject: dict[str, list[str]] = {}
    for record in stored:
        by_subject.setdefault(record["businessId"], []).append(record["record"]["doctorTile"])
    assert all(titles == [f"v{v}" for v in range(VERSIONS)] for titles in by_subject.values())
    rows = [r for r in await fresh_outbox(settings) if r.event_type == "staff.record"]
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_staff_record_waits_for_a_licence_another_dispatcher_is_routing_and_not_for_a_complaint(
    settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    await add_department(settings, "03", "内科")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    complaint = str(uuid.uuid4())
    filed = ComplaintFiled(complaint_id=complaint, category="service", description="回复不及时",
                           filed_at=datetime.now(UTC))
    await emit_all(settings, [("institution.licence", "institution", "PDY0002", LICENCE),
                              ("staff.record", "staff", first, staff_payload(first, "v0")),
                              ("complaint.filed", "complaint", complaint, filed),
                              ("staff.record", "staff", second, staff_payload(second, "v0"))])
    dispatcher = await dispatchers()
    engine = create_engine(settings.resolved_database_url)
    T = OutboxEvent.__table__  # type: ignore[attr-defined]
    try:
        async with session_factory(engine)() as other:  # another dispatcher, mapping the licence and the complaint
            await other.execute(sa.select(T.c.seq).where(T.c.event_type.in_(["institution.licence", "complaint.filed"])
                                                         ).with_for_update())
            await dispatcher.step()
            assert await sim.records(STAFF) == []  # the licence may be (and is) uploadOrganIndicators: both wait
            await other.rollback()
    finally:
        await engine.dispose()
    rows = {r.subject_id: r for r in await fresh_outbox(settings)}
    assert rows[first].last_error == rows[second].last_error == f"{WAITING_NOTE}earlier uploadOrganIndicators records"
    assert rows[complaint].method is None  # still the other's to route
    await deliver_all(dispatcher)
    methods = [r["method"] for r in await sim.requests() if r["method"] in ("uploadOrganIndicators", STAFF)]
    assert methods[0] == "uploadOrganIndicators" and methods.count(STAFF) >= 1

    # The licence delivered, a complaint being routed elsewhere holds back no staff record: its type never
    # gives uploadOrganIndicators (data/timing.csv, routed_from).
    third, later = str(uuid.uuid4()), str(uuid.uuid4())
    await emit_all(settings, [("complaint.filed", "complaint", later, ComplaintFiled(
        complaint_id=later, category="service", description="回复不及时", filed_at=datetime.now(UTC))),
                              ("staff.record", "staff", third, staff_payload(third, "v0"))])
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as other:
            await other.execute(sa.select(T.c.seq).where(T.c.subject_id == later).with_for_update())
            await dispatcher.step()
            assert [r["businessId"] for r in await sim.records(STAFF)].count(third) == 1
            await other.rollback()
    finally:
        await engine.dispose()
