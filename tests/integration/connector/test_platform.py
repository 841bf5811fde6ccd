"""The dispatcher asks its Platform, never which protocol it is (SUP-02): a third platform plugged in without
touching the dispatcher routes, times, keys and delivers the outbox its own way."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.supervision.directory import Directory
from connectors.supervision.dispatcher import Dispatcher
from connectors.supervision.gateway.responses import Accepted, FixData, Outcome, Retry
from connectors.supervision.mapping import EventView, MapContext, Mapped, Mapper, NotReported, UnmappedEvent
from connectors.supervision.mapping.base import dispatch, not_reported
from connectors.supervision.settings import ConnectorSettings, Mode
from connectors.supervision.timing import MethodTiming
from hospital.config import Settings
from hospital.contracts.biometrics import SecurityAlert
from hospital.contracts.staff import StaffRecord
from hospital.core.crypto import FieldCipher
from hospital.db import create_engine, session_factory
from tests.integration.connector.conftest import deliver_all, emit_all, fresh_outbox
from tests.integration.connector.test_delivery import Clock, staff_payload

pytestmark = pytest.mark.requirement("SUP-02")


def roster(event: EventView[StaffRecord], ctx: MapContext) -> Mapped:
    p = event.data
    return Mapped("roster", [{"id": p.staff_id, "title": p.title, "id_number": p.id_number}])


class Roster:
    """A platform that takes a roster of clinicians, in a nightly batch, and answers 503 once."""

    name = "roster"
    max_records = 10

    def __init__(self) -> None:
        self.received: list[list[dict[str, Any]]] = []
        self.answers: list[Outcome] = [Retry("HTTP 503", 503)]

    def registry(self) -> Mapping[str, Mapper]:
        return {"staff.record": roster, "supervision.daily_disputes": not_reported("not on a roster")}

    def map(self, event: EventView[Any], ctx: MapContext) -> Mapped | NotReported | UnmappedEvent:
        return dispatch(self.registry(), event, ctx)

    def timing(self, method: str) -> MethodTiming:
        return MethodTiming(method, True, ())

    def business_key(self, mapped: Mapped) -> str | None:
        return str(mapped.records[0]["id"])

    def check(self, mapped: Mapped) -> FixData | None:
        return None

    async def deliver(self, event: EventView[Any], mapped: Mapped, ctx: MapContext) -> Outcome:
        return await self.deliver_records(mapped.method, mapped.records)

    async def deliver_records(self, method: str, records: list[dict[str, Any]]) -> Outcome:
        self.received.append(records)
        return self.answers.pop(0) if self.answers else Accepted("ok", None, "")

    async def aclose(self) -> None:
        return None


async def test_a_third_platform_routes_times_keys_and_delivers_the_outbox_its_own_way(
    settings: Settings, connector_settings: ConnectorSettings
) -> None:
    staff = [str(uuid.uuid4()) for _ in range(3)]
    now = datetime.now(UTC)
    await emit_all(settings, [("staff.record", "staff", s, staff_payload(s, f"v{v}")) for v in range(2) for s in staff]
                   + [("security.alert", "user", staff[0], SecurityAlert(kind="face_verification_locked",
                                                                         user_id=staff[0], failed_attempts=5))])
    engine, reader = create_engine(settings.resolved_database_url), create_engine(settings.resolved_database_url,
                                                                                  immediate=False)
    platform = Roster()
    clock = Clock(now)
    try:
        dispatcher = Dispatcher(session_factory(engine), connector_settings.with_(mode=Mode.T_PLUS_1, lanes=1), platform,
                                Directory(session_factory(reader), FieldCipher(settings.field_key)), postgres=False,
                                clock=clock, reader=session_factory(reader))
        await deliver_all(dispatcher)
        assert platform.received == []  # held for tonight's batch: the roster's timing, not the gateway's
        clock.now = now + timedelta(days=1, hours=1)
        await deliver_all(dispatcher)
    finally:
        await engine.dispose()
        await reader.dispose()
    # One request of the three clinicians' last versions (the earlier ones folded by the roster's business key),
    # each sent again after the 503 (as its backoff comes due); the ID numbers opened from the sealed part.
    first, *again = platform.received
    assert sorted((r["id"], r["title"]) for r in first) == sorted((s, "v1") for s in staff)
    assert sorted(r["id"] for request in again for r in request) == sorted(staff)
    assert {r["id_number"] for r in first} == {"110105199009093412"}
    rows = await fresh_outbox(settings)
    assert sorted(r.status for r in rows if r.event_type == "staff.record") == ["sent"] * 3 + ["superseded"] * 3
    assert {r.business_id for r in rows if r.status == "sent"} == set(staff)
    (alert,) = [r for r in rows if r.event_type == "security.alert"]
    assert (alert.status, alert.last_error) == ("parked", "no mapper for security.alert yet")
