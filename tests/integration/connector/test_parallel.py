"""Two dispatchers on PostgreSQL share one outbox (FOR UPDATE SKIP LOCKED and leases): 1,000 events, each
sent exactly once, in order per subject. A PostgreSQL feature, so it runs on PostgreSQL only; SQLite
serialises its writers and is documented as one dispatcher (docs/connector.md)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hospital.config import Settings
from tests.integration.connector.conftest import (
    DeadlineTransport,
    DispatcherFactory,
    Sim,
    add_department,
    deliver_all,
    emit_all,
    fresh_outbox,
)
from tests.integration.connector.test_delivery import STAFF, staff_payload

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
