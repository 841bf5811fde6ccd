"""Operating the connector: `hospital connector status|requeue|run` and the `/ready` probe of its lag."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from click.testing import CliRunner, Result
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from connectors.supervision.settings import ConnectorSettings
from hospital.app import create_app
from hospital.cli import main
from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.core.outbox import OutboxEvent
from hospital.db import create_engine, session_factory
from tests.integration.connector.conftest import (
    DispatcherFactory,
    Sim,
    add_department,
    deliver_all,
    emit_all,
    fresh_outbox,
)
from tests.integration.connector.test_delivery import STAFF, staff_payload


async def hospital(settings: Settings, *args: str, **env: str) -> Result:
    """Run the `hospital` command as an operator would (in a thread: it runs its own event loop)."""
    environment = {"HOSPITAL_DATABASE_URL": settings.resolved_database_url, "HOSPITAL_DATA_DIR": str(settings.data_dir),
                   **env}
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=environment)


async def test_status_shows_the_dead_letter_with_the_platforms_message_and_requeue_delivers_it(
    settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    await add_department(settings, "03", " ")
    staff = str(uuid.uuid4())
    await emit_all(settings, [("staff.record", "staff", staff, staff_payload(staff, "主治医师"))])
    dispatcher = await dispatchers(precheck=False)
    await deliver_all(dispatcher)

    shown = await hospital(settings, "connector", "status")
    assert shown.exit_code == 0, shown.output
    assert "dead 1" in shown.output and "staff.record" in shown.output and "-99 subjectName" in shown.output
    figures = json.loads((await hospital(settings, "connector", "status", "--json")).output)
    assert figures["counts"]["dead"] == 1 and figures["dead"][0]["error"] == "-99 subjectName"

    await add_department(settings, "03", "内科")
    requeued = await hospital(settings, "connector", "requeue", "--all-dead")
    assert requeued.exit_code == 0 and json.loads(requeued.output) == {"requeued": 1, "superseded": 0}
    await deliver_all(dispatcher)
    assert [r["record"]["subjectName"] for r in await sim.records(STAFF)] == ["内科"]
    assert "dead 0" in (await hospital(settings, "connector", "status")).output


async def test_requeue_names_an_unknown_event_and_needs_an_event_or_all_dead(settings: Settings) -> None:
    unknown = await hospital(settings, "connector", "requeue", str(uuid.uuid4()))
    assert unknown.exit_code == 1 and "no dead or parked event" in unknown.output
    assert (await hospital(settings, "connector", "requeue")).exit_code == 2


async def test_run_refuses_to_start_without_a_platform(settings: Settings) -> None:
    refused = await hospital(settings, "connector", "run", HOSPITAL_SUPERVISION_URL="")
    assert refused.exit_code == 1 and "HOSPITAL_SUPERVISION_URL is not set" in refused.output


async def mark_sent(settings: Settings, seq: Any) -> None:
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as session:
        await session.execute(update(OutboxEvent).where(OutboxEvent.seq == seq).values(status="sent"))  # type: ignore[arg-type]
        await session.commit()
    await engine.dispose()


async def test_ready_reports_the_connector_lag_over_the_threshold(settings: Settings, ctx: HospitalContext) -> None:
    ctx.connector_settings = ConnectorSettings(url="http://sim", lag_threshold_s=60)
    staff = str(uuid.uuid4())
    old = datetime.now(UTC) - timedelta(minutes=5)
    await emit_all(settings, [("staff.record", "staff", staff, staff_payload(staff, "主治医师"))], created_at=[old])
    async with AsyncTestClient(app=create_app(settings, ctx)) as client:
        lagging = await client.get("/ready")
        assert lagging.status_code == 503
        message: Any = lagging.json()["checks"]["supervision_connector"]
        assert re.fullmatch(r"supervision connector lag 30\d s over 60 s \(oldest event #1 staff.record, pending, "
                            r"not yet sent\)", message), message
    (row,) = await fresh_outbox(settings)
    await mark_sent(settings, row.seq)  # as the dispatcher would once the platform acknowledged it
    async with AsyncTestClient(app=create_app(settings, ctx)) as client:
        ready = await client.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"]["supervision_connector"] == "ok"
