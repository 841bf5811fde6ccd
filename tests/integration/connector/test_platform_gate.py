"""SUP-01 over HTTP: where the connection is required (production), clinical work waits for the supervision
platform: booking answers 503 SUP-01 (nothing written) while no platform is configured or none has accepted a
record, and /ready is red while none is configured; once the platform accepted a record, booking goes through.

The hospital runs with production settings that have what production requires of them (REC-03: an https public
URL and the proxy that terminates TLS; INS-03: the hospital's own disclosure file), on the test's database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.supervision.gate import PlatformGate, is_clinical_write
from connectors.supervision.settings import ConnectorSettings, load_connector_settings
from hospital.app import create_app
from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.core.outbox import OutboxEvent
from hospital.institution.reference import load_disclosure_settings, require_own_disclosure
from hospital.visits.booking.models import Visit
from tests.helpers import count_rows, login_as
from tests.integration.connector.conftest import KEY, SECRET, UNIT
from tests.integration.visits.journey import book, demo_prior_id, schedule_of

pytestmark = pytest.mark.requirement("SUP-01")

T = OutboxEvent.__table__  # type: ignore[attr-defined]
PLATFORM = ConnectorSettings(url="http://sim", unit_id=UNIT, app_key=KEY, app_secret=SECRET)


@asynccontextmanager
async def production(settings: Settings, ctx: HospitalContext, connector: ConnectorSettings
                     ) -> AsyncIterator[AsyncTestClient[Any]]:
    """The app as production runs it (the gate reads the hospital's environment), on the test's database."""
    ctx.settings = production_settings(settings)
    ctx.connector_settings = connector
    async with AsyncTestClient(app=create_app(settings, ctx)) as client:
        client.headers["Accept-Language"] = "en"  # the refusal's English sentence, as a tool reads it
        yield client


def production_settings(settings: Settings) -> Settings:
    """The test's settings as production: behind TLS (REC-03) and publishing its own disclosure (INS-03). The
    database stays the test's (production's PostgreSQL-over-TLS check is Settings.check's, tested elsewhere)."""
    prod = settings.with_(environment="production", public_base_url="https://hospital.example.cn",
                          tls_proxy="nginx in front of the replicas")
    own = load_disclosure_settings(None)
    own.complaints.phone = "0571-8888-0000"  # the hospital's own complaint line, not the demo's
    prod.data_dir.mkdir(parents=True, exist_ok=True)
    (prod.data_dir / "disclosure.json").write_bytes(msgspec.json.encode(own))
    require_own_disclosure(prod)
    return prod


async def try_booking(client: AsyncTestClient[Any]) -> Any:
    patient = await login_as(client, "patient")
    return await book(client, patient, (await schedule_of(client))["schedule_id"], await demo_prior_id(client, patient))


async def test_production_without_a_platform_refuses_booking_with_sup_01_and_is_not_ready(
    settings: Settings, ctx: HospitalContext, demo: None, session: AsyncSession
) -> None:
    async with production(settings, ctx, ConnectorSettings()) as client:
        before = await count_rows(session, Visit, OutboxEvent)
        refused = await try_booking(client)
        assert refused.status_code == 503 and refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["rule_id"] == "SUP-01" and "no supervision platform" in refused.json()["detail"]
        assert await count_rows(session, Visit, OutboxEvent) == before
        ready = await client.get("/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["supervision_platform"].startswith("SUP-01")
        assert (await client.get("/api/schedules")).status_code == 200  # reads and set-up go on


async def test_production_books_once_the_platform_accepted_a_record(
    settings: Settings, ctx: HospitalContext, demo: None, session: AsyncSession
) -> None:
    async with production(settings, ctx, PLATFORM) as client:
        waiting = await try_booking(client)
        assert waiting.status_code == 503 and "not yet accepted" in waiting.json()["detail"]
        assert (await client.get("/ready")).json()["checks"].get("supervision_platform") is None
        first = (await session.execute(sa.select(sa.func.min(T.c.seq)))).scalar_one()
        await session.execute(sa.update(T).where(T.c.seq == first).values(status="sent"))  # the licence, filed
        await session.commit()
        booked = await try_booking(client)
        assert booked.status_code == 201, booked.text


async def test_outside_production_the_gate_stands_aside_unless_asked(
    settings: Settings, ctx: HospitalContext, demo: None
) -> None:
    ctx.connector_settings = ConnectorSettings()
    async with AsyncTestClient(app=create_app(settings, ctx)) as client:
        assert (await try_booking(client)).status_code == 201
    assert PlatformGate(load_connector_settings({"HOSPITAL_SUPERVISION_REQUIRED": "1"}), production=False).required
    assert not PlatformGate(load_connector_settings({"HOSPITAL_SUPERVISION_REQUIRED": "0"}), production=True).required


def test_the_gate_keeps_to_clinical_writes() -> None:
    assert is_clinical_write("POST", "/api/visits") and is_clinical_write("PUT", "/api/visits/x/medical-record")
    assert is_clinical_write("POST", "/api/prescriptions/x/review") and is_clinical_write("POST", "/api/dispensings/x/delivery")
    assert not is_clinical_write("GET", "/api/visits") and not is_clinical_write("POST", "/api/visits/x/rating")
    assert not is_clinical_write("POST", "/api/institution/licence") and not is_clinical_write("POST", "/api/staff")
