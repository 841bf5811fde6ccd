"""`hospital connector run` killed with SIGKILL between sending and the platform's acknowledgement: nothing is
lost, the event is sent again once its lease runs out, and the platform keeps one copy (SUP-02)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from connectors.supervision.runner import open_dispatcher
from connectors.supervision.settings import ConnectorSettings
from connectors.supervision.simulator import SimulatorConfig, create_simulator_app
from hospital.config import Settings
from tests.integration.connector.conftest import (
    KEY,
    ORGAN,
    SECRET,
    UNIT,
    Sim,
    add_department,
    deliver_all,
    emit_all,
    fresh_outbox,
)
from tests.integration.connector.test_delivery import STAFF, staff_payload

pytestmark = pytest.mark.requirement("SUP-02")

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, Sim]]:
    """The simulator on 127.0.0.1 (uvicorn in this process), so another process can reach it."""
    port = free_port()
    app = create_simulator_app(SimulatorConfig(UNIT, KEY, SECRET))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    # No keep-alive for the test's own admin calls: a pooled connection the server has just closed would fail.
    async with httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        yield url, Sim(http)
    server.should_exit = True
    await task


def dispatcher_env(settings: Settings, url: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "HOSPITAL_ENV": "test",
            "HOSPITAL_DATABASE_URL": settings.resolved_database_url, "HOSPITAL_DATA_DIR": str(settings.data_dir),
            "HOSPITAL_SUPERVISION_URL": url, "HOSPITAL_SUPERVISION_UNIT_ID": UNIT,
            "HOSPITAL_SUPERVISION_APP_KEY": KEY, "HOSPITAL_SUPERVISION_APP_SECRET": SECRET,
            "HOSPITAL_SUPERVISION_ORGAN_ID": ORGAN, "HOSPITAL_SUPERVISION_TIMEOUT": "4",
            "HOSPITAL_SUPERVISION_LEASE": "5", "HOSPITAL_SUPERVISION_POLL": "0.02",
            "HOSPITAL_SUPERVISION_LANES": "1", "HOSPITAL_SUPERVISION_CONCURRENCY": "1",
            "HOSPITAL_SUPERVISION_BATCH": "1"}


async def test_a_dispatcher_killed_between_send_and_acknowledgement_loses_nothing(
    settings: Settings, served: tuple[str, Sim]
) -> None:
    url, sim = served
    await add_department(settings, "03", "内科")
    subjects = [str(uuid.uuid4()) for _ in range(3)]
    base = datetime.now(UTC) - timedelta(minutes=5)
    events = [("staff.record", "staff", s, staff_payload(s, f"v{v}")) for v in range(2) for s in subjects]
    await emit_all(settings, events, created_at=[base + timedelta(seconds=i) for i in range(len(events))])
    await sim.fault(kind="slow", count=1, delay=8)  # the first upload lands, its answer never comes in time

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hospital", "connector", "run", "--no-catalogue", env=dispatcher_env(settings, url),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not await sim.records(STAFF):
        assert time.monotonic() < deadline and process.returncode is None, "the dispatcher sent nothing"
        await asyncio.sleep(0.05)
    process.kill()  # SIGKILL: no chance to write anything back
    await process.wait()

    rows = [r for r in await fresh_outbox(settings) if r.event_type == "staff.record"]
    (in_flight,) = [r for r in rows if r.lease_owner is not None]
    assert in_flight.status == "pending" and in_flight.attempts == 1
    assert not [r for r in rows if r.status == "sent"]

    await sim.clear_fault()
    connector = ConnectorSettings(url=url, unit_id=UNIT, app_key=KEY, app_secret=SECRET, organ_id=ORGAN,
                                  timeout_s=2, lease_s=3, poll_s=0.02, retry_base_s=0.05, retry_cap_s=0.2)
    async with open_dispatcher(settings, connector) as dispatcher:
        await deliver_all(dispatcher, settle_s=30)

    stored = await sim.records(STAFF)
    assert len({(r["businessId"], r["version"]) for r in stored}) == len(stored) == 6
    assert next(r["duplicates"] for r in stored if r["businessId"] == in_flight.subject_id) == 1
    by_subject: dict[str, list[str]] = {}
    for record in stored:
        by_subject.setdefault(record["businessId"], []).append(record["record"]["doctorTile"])
    assert all(titles == ["v0", "v1"] for titles in by_subject.values())
    after = {r.seq: r for r in await fresh_outbox(settings)}
    assert {after[r.seq].status for r in rows} == {"sent"} and after[in_flight.seq].attempts == 2
