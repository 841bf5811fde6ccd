"""The connector against the simulated platform, in process (httpx.ASGITransport), on both databases."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.supervision.dispatcher import Dispatcher
from connectors.supervision.operations import ConnectorStatus, connector_status
from connectors.supervision.queue import BLOCKING
from connectors.supervision.runner import open_dispatcher
from connectors.supervision.settings import ConnectorSettings
from connectors.supervision.simulator import SimulatorConfig, create_simulator_app
from hospital.config import Settings
from hospital.contracts import Payload
from hospital.core.crypto import FieldCipher
from hospital.core.outbox import OutboxEvent
from hospital.db import create_engine, session_factory

UNIT, KEY, SECRET = "UNIT-T", "KEY-T", "bbf1dd188b8b4629853f06f118d11e4a"
ORGAN = "91310115MA1HDEMO0X"


@dataclass
class Sim:
    """The simulated platform and what the test asks it (its /sim admin API)."""

    http: httpx.AsyncClient

    async def records(self, method: str | None = None) -> list[dict[str, Any]]:
        return (await self.http.get(f"/sim/records/{method}" if method else "/sim/records")).json()

    async def warnings(self) -> list[dict[str, Any]]:
        return (await self.http.get("/sim/warnings")).json()

    async def requests(self) -> list[dict[str, Any]]:
        return (await self.http.get("/sim/requests")).json()

    async def fault(self, **fault: Any) -> None:
        response = await self.http.post("/sim/faults", json=fault)
        assert response.status_code == 200, response.text

    async def clear_fault(self) -> None:
        await self.http.delete("/sim/faults")


class DeadlineTransport(httpx.ASGITransport):
    """The app in process, with the client's read timeout that a network transport would enforce (an ASGI
    transport has none): a stalled or slow platform times out as it would on the wire."""

    def __init__(self, app: Any, timeout_s: float) -> None:
        super().__init__(app=app)
        self.timeout_s = timeout_s

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await asyncio.wait_for(super().handle_async_request(request), self.timeout_s)
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"no answer within {self.timeout_s} s", request=request) from exc


SIM_TIMEOUT_S = 0.5


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    app = create_simulator_app(SimulatorConfig(UNIT, KEY, SECRET))
    async with httpx.AsyncClient(transport=DeadlineTransport(app, SIM_TIMEOUT_S), base_url="http://sim") as http:
        yield Sim(http)


@pytest.fixture
def connector_settings() -> ConnectorSettings:
    """Quick retries and polling so fault tests finish in seconds."""
    return ConnectorSettings(url="http://sim", unit_id=UNIT, app_key=KEY, app_secret=SECRET, organ_id=ORGAN,
                             organ_name="示范互联网医院", timeout_s=2.0, lease_s=5.0, retry_base_s=0.02,
                             retry_cap_s=0.2, poll_s=0.01, hold_s=0.02, concurrency=8, batch_size=64)


DispatcherFactory = Callable[..., Any]


@pytest.fixture
async def dispatchers(settings: Settings, sim: Sim, connector_settings: ConnectorSettings
                      ) -> AsyncIterator[DispatcherFactory]:
    """`await dispatchers(**changes)` opens a dispatcher on the test database and the simulator."""
    opened: list[Any] = []

    async def make(http: httpx.AsyncClient | None = None, name: str | None = None,
                   clock: Callable[[], datetime] | None = None, **changes: Any) -> Dispatcher:
        context = open_dispatcher(settings, connector_settings.with_(**changes), http=http or sim.http, name=name,
                                  clock=clock)
        opened.append(context)
        return await context.__aenter__()

    yield make
    for context in reversed(opened):
        await context.__aexit__(None, None, None)


async def unsettled(dispatcher: Dispatcher) -> int:
    """Events pending or retrying that are due within a minute of the dispatcher's clock (not those held for a
    later T+1 batch)."""
    soon = dispatcher.clock() + timedelta(minutes=1)
    async with dispatcher.reader() as session:
        return (await session.execute(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.status.in_(BLOCKING), OutboxEvent.next_attempt_at <= soon))).scalar_one()  # type: ignore[attr-defined]


async def deliver_all(*dispatchers: Dispatcher, settle_s: float = 20.0) -> None:
    """Run the dispatchers until nothing due is left pending or retrying (or fail after `settle_s`)."""
    for dispatcher in dispatchers:  # parked events are routed again before "nothing is due" can be judged
        await dispatcher.start()
    deadline = time.monotonic() + settle_s
    stop = asyncio.Event()
    tasks = [asyncio.create_task(d.run(stop)) for d in dispatchers]
    try:
        while time.monotonic() < deadline:
            if not await unsettled(dispatchers[0]):
                await asyncio.sleep(0.05)  # let the daily check-in of this round be created and routed
                if not await unsettled(dispatchers[0]):
                    return
            await asyncio.sleep(0.05)
        raise AssertionError(f"events still undelivered after {settle_s} s: {(await status_of(dispatchers[0])).as_dict()}")
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def status_of(dispatcher: Dispatcher) -> ConnectorStatus:
    async with dispatcher.reader() as session:
        return await connector_status(session)


async def outbox(session: AsyncSession) -> list[OutboxEvent]:
    rows = list((await session.execute(select(OutboxEvent).order_by(OutboxEvent.seq))).scalars())  # type: ignore[arg-type]
    session.expunge_all()
    await session.rollback()
    return rows


async def fresh_outbox(settings: Settings) -> list[OutboxEvent]:
    """The outbox read on a connection of its own (the test's session may hold an old snapshot)."""
    engine = create_engine(settings.resolved_database_url, immediate=False)
    try:
        async with session_factory(engine)() as session:
            return await outbox(session)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class People:
    doctor_user_id: str
    doctor_staff_id: str
    pharmacist_user_id: str
    pharmacist_staff_id: str
    patient_id: str


async def demo_people(settings: Settings) -> People:
    from hospital.patients.models import Patient
    from hospital.staff.models import StaffMember

    engine = create_engine(settings.resolved_database_url, immediate=False)
    try:
        async with session_factory(engine)() as session:
            staff = {m.kind: m for m in (await session.execute(select(StaffMember))).scalars()}
            patient = (await session.execute(select(Patient))).scalars().first()
            assert patient is not None and {"doctor", "pharmacist"} <= set(staff)
            return People(str(staff["doctor"].user_id), str(staff["doctor"].id), str(staff["pharmacist"].user_id),
                          str(staff["pharmacist"].id), str(patient.id))
    finally:
        await engine.dispose()


async def staff_id_of(settings: Settings, user_id: str) -> str:
    """The staff record's id of a clinician's user (payloads name clinicians by either, as the areas do)."""
    from hospital.staff.models import StaffMember

    engine = create_engine(settings.resolved_database_url, immediate=False)
    try:
        async with session_factory(engine)() as session:
            member = (await session.execute(select(StaffMember).where(
                StaffMember.user_id == uuid.UUID(user_id)))).scalar_one()  # type: ignore[arg-type]
            return str(member.id)
    finally:
        await engine.dispose()


Emitted = tuple[str, str, str, Payload]  # event type, subject type, subject id, payload


async def emit_all(settings: Settings, events: Sequence[Emitted], *, created_at: list[Any] | None = None) -> None:
    """Commit `events` as the areas would (one transaction, their payloads conformed and sealed with the field
    key), optionally with chosen commit times."""
    from hospital.core.outbox import emit

    engine = create_engine(settings.resolved_database_url)
    cipher = FieldCipher(settings.field_key)
    try:
        async with session_factory(engine)() as session:
            for index, (event_type, subject_type, subject_id, payload) in enumerate(events):
                versions = [e for e in events[:index] if e[:3] == (event_type, subject_type, subject_id)]
                row = await emit(session, event_type, subject_type=subject_type, subject_id=subject_id,
                                 payload=payload, version=len(versions) + 1, cipher=cipher)
                if created_at is not None:
                    row.created_at = row.next_attempt_at = created_at[index]
            await session.commit()
    finally:
        await engine.dispose()


async def add_department(settings: Settings, code: str, name: str) -> None:
    from hospital.core.audit import Actor
    from hospital.institution.rules import SeniorPhysician
    from hospital.institution.service import set_department

    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            # PD 8(二): opened with its 正高 and 副高 physicians, as every path must (INS-02)
            await set_department(session, Actor.system("test"), code, name, True, [
                SeniorPhysician("连接主任", "主任医师", "110310000000901"),
                SeniorPhysician("连接副主任", "副主任医师", "110310000000902")])
    finally:
        await engine.dispose()
