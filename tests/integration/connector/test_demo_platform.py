"""`hospital demo` reports somewhere: with no platform configured, the demo app runs the simulator and a dispatcher
in its own process; a booking made over HTTP reaches the simulator, whose records are shown at /demo/platform."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.testing import AsyncTestClient

from connectors.supervision.demo import DemoPlatform
from hospital.app import create_app
from hospital.config import Settings
from hospital.context import HospitalContext
from tests.helpers import login_as
from tests.integration.visits.journey import book, demo_prior_id, schedule_of


async def records_of(client: AsyncTestClient[Any], method: str, *, at_least: int = 1) -> list[dict[str, Any]]:
    for _ in range(400):
        found = (await client.get(f"/demo/platform/sim/records/{method}")).json()
        if len(found) >= at_least:
            return list(found)
        await asyncio.sleep(0.05)
    raise AssertionError(f"the demo platform never received {method}")


async def test_the_demo_delivers_its_journey_to_its_own_simulator(
    settings: Settings, ctx: HospitalContext, demo: None
) -> None:
    platform = DemoPlatform(settings)
    async with AsyncTestClient(app=create_app(settings, ctx, demo_platform=platform)) as client:
        assert (await records_of(client, "uploadOrganIndicators"))[0]["record"]["organName"] == settings.hospital_name
        assert await records_of(client, "uploadDrugCatalogue")
        patient = await login_as(client, "patient")
        booked = await book(client, patient, (await schedule_of(client))["schedule_id"],
                            await demo_prior_id(client, patient))
        assert booked.status_code == 201, booked.text
        appointments = await records_of(client, "uploadAppointRecord")
        assert [a["businessId"] for a in appointments] == [booked.json()["visit_id"]]
        assert (await client.get("/ready")).json()["checks"]["supervision_connector"] == "ok"
    assert (settings.data_dir / "demo-platform.sqlite").exists()
