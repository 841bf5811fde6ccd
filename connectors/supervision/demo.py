"""The demo's own supervision platform: `hospital demo` with no `HOSPITAL_SUPERVISION_URL` runs the simulator
and a dispatcher inside the hospital's process, so the demo journey reports somewhere.

The simulator is reached through an in-process transport (no port to open), keeps its records in
`<data dir>/demo-platform.sqlite` across restarts, and its admin view is mounted at `/demo/platform/sim/…`
(records, warnings, requests). A real platform configured in the environment replaces all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar, asgi
from litestar.handlers import ASGIRouteHandler

from connectors.supervision.catalogue import file_catalogue
from connectors.supervision.runner import open_dispatcher
from connectors.supervision.settings import ConnectorSettings
from connectors.supervision.simulator import SimulatorConfig, create_simulator_app
from hospital.config import Settings

__all__ = ["DEMO_PLATFORM_PATH", "DemoPlatform"]

log = logging.getLogger("connectors.supervision.demo")
DEMO_PLATFORM_PATH = "/demo/platform"
# The demo unit's credentials: public, like the demo's passwords; production refuses the demo altogether.
DEMO_UNIT, DEMO_KEY, DEMO_SECRET = "DEMO-UNIT", "DEMO-KEY", "0123456789abcdef0123456789abcdef"


class DemoPlatform:
    """The simulator and the connector settings that point at it."""

    def __init__(self, hospital: Settings) -> None:
        self.hospital = hospital
        store = hospital.data_dir / "demo-platform.sqlite"
        store.parent.mkdir(parents=True, exist_ok=True)
        self.simulator: Litestar = create_simulator_app(
            SimulatorConfig(DEMO_UNIT, DEMO_KEY, DEMO_SECRET, store_path=str(store)))
        self.settings = ConnectorSettings(url="http://demo-platform.invalid", unit_id=DEMO_UNIT, app_key=DEMO_KEY,
                                          app_secret=DEMO_SECRET, organ_name=hospital.hospital_name)

    def route(self) -> ASGIRouteHandler:
        """The simulator's admin view (and protocol) under `/demo/platform`, for a person to look at."""
        simulator = self.simulator

        @asgi(DEMO_PLATFORM_PATH, is_mount=True, copy_scope=True, opt={"exclude_from_auth": True},
              include_in_schema=False)
        async def platform(scope: Any, receive: Any, send: Any) -> None:
            await simulator(scope, receive, send)

        return platform

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Deliver the outbox to the simulator while the hospital runs (the catalogue filed first)."""
        transport = httpx.ASGITransport(app=self.simulator)  # type: ignore[arg-type]
        http = httpx.AsyncClient(transport=transport, base_url=self.settings.url)
        stop = asyncio.Event()
        async with open_dispatcher(self.hospital, self.settings, http=http, name="demo") as dispatcher:
            async with dispatcher.session() as session:
                await file_catalogue(session)
            task = asyncio.create_task(dispatcher.run(stop))
            log.info("demo supervision platform: the connector delivers to the simulator at %s", DEMO_PLATFORM_PATH)
            try:
                yield
            finally:
                stop.set()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, timeout=10)
        await http.aclose()
