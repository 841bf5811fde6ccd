"""The outbox dispatcher end to end against the simulated platform on loopback (SUP-02).

Three phases, one run, the simulator in its own process (uvicorn on 127.0.0.1):
  1. baseline: a plain loop posting the same records with `GatewayClient` (encrypt, sign, POST, one at a time);
  2. throughput: the same number of events committed to the outbox, then one dispatcher delivers them all;
  3. lag: events committed one per transaction at a steady rate while the dispatcher runs; lag is commit →
     acknowledgement (`sent_at - created_at`), p50 and p99.
Run: PYTHONPATH=. /work/venv/bin/python bench/outbox.py [--events 2000] [--rate 500] [--seconds 10]
     [--database-url postgresql+asyncpg://…/db]   (default: a fresh SQLite file)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from connectors.supervision.dispatcher import Dispatcher
from connectors.supervision.gateway.client import GatewayClient
from connectors.supervision.gateway.responses import Accepted
from connectors.supervision.mapping import EventView, Mapped, map_event
from connectors.supervision.runner import open_dispatcher
from connectors.supervision.settings import ConnectorSettings
from hospital.config import Settings
from hospital.core.audit import Actor
from hospital.core.outbox import OutboxEvent, emit
from hospital.db import create_engine, migrate, session_factory
from hospital.institution.service import upsert_department

UNIT, KEY, SECRET = "UNIT-B", "KEY-B", "bbf1dd188b8b4629853f06f118d11e4a"
T = OutboxEvent.__table__  # type: ignore[attr-defined]


def staff_payload(staff_id: str) -> dict[str, Any]:
    return {"staff_id": staff_id, "kind": "doctor", "name": "周医生", "id_number": "110105199009093412", "sex": "male",
            "birth_date": "1990-09-09", "title": "主治医师", "clinical_years": 5, "departments": ["03.03"],
            "practice_institution": "示范市第一人民医院",
            "credentials": [{"kind": "physician_qualification", "number": "Q1"},
                            {"kind": "physician_practice", "number": "P1"}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_simulator(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.Popen([sys.executable, "-m", "hospital", "supervision-sim", "--port", str(port), "--unit-id",
                             UNIT, "--app-key", KEY, "--app-secret", SECRET], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_up(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            if (await http.get("/sim/faults")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise SystemExit("the simulator did not start")


async def baseline(dispatcher: Dispatcher, url: str, n: int) -> float:
    """Events per second of a plain loop posting the same records, mapped beforehand."""
    ctx = dispatcher.map_context()
    await dispatcher.directory.prepare([])  # type: ignore[union-attr]
    now = datetime.now(UTC)
    batches = []
    for i in range(n):
        outcome = map_event(EventView(i, "staff.record", "staff", str(i), 1, now, staff_payload(str(uuid.uuid4()))),
                            ctx)
        assert isinstance(outcome, Mapped)
        batches.append((outcome.method, outcome.records))
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        client = GatewayClient(url, UNIT, KEY, SECRET, http)
        start = time.perf_counter()
        for method, records in batches:
            assert isinstance(await client.send(method, records), Accepted)
        return n / (time.perf_counter() - start)


async def commit_events(settings: Settings, n: int) -> None:
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as session:
        for _ in range(n):
            staff = str(uuid.uuid4())
            await emit(session, "staff.record", subject_type="staff", subject_id=staff, payload=staff_payload(staff))
        await session.commit()
    await engine.dispose()


async def undelivered(dispatcher: Dispatcher) -> int:
    async with dispatcher.reader() as session:
        return int((await session.execute(sa.select(sa.func.count()).where(
            T.c.event_type == "staff.record", T.c.status != "sent"))).scalar_one())


async def run_until_sent(dispatcher: Dispatcher, producing: asyncio.Task[Any] | None = None) -> float:
    stop = asyncio.Event()
    start = time.perf_counter()
    task = asyncio.create_task(dispatcher.run(stop))
    while (producing is not None and not producing.done()) or await undelivered(dispatcher):
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - start
    stop.set()
    await task
    return elapsed


async def produce(settings: Settings, rate: float, seconds: float) -> int:
    """Commit one event per transaction at `rate` per second, as areas do, for `seconds`."""
    engine = create_engine(settings.resolved_database_url)
    factory = session_factory(engine)
    start, sent = time.perf_counter(), 0
    while (elapsed := time.perf_counter() - start) < seconds:
        due = int(elapsed * rate) + 1
        async with factory() as session:
            while sent < due:
                staff = str(uuid.uuid4())
                await emit(session, "staff.record", subject_type="staff", subject_id=staff,
                           payload=staff_payload(staff))
                await session.commit()
                sent += 1
        await asyncio.sleep(max(0.0, (sent / rate) - (time.perf_counter() - start)))
    await engine.dispose()
    return sent


async def lags(dispatcher: Dispatcher, since_seq: int) -> list[float]:
    async with dispatcher.reader() as session:
        rows = (await session.execute(sa.select(T.c.created_at, T.c.sent_at).where(
            T.c.seq > since_seq, T.c.event_type == "staff.record"))).all()
    return sorted((r.sent_at - r.created_at).total_seconds() for r in rows)


async def max_seq(dispatcher: Dispatcher) -> int:
    async with dispatcher.reader() as session:
        return int((await session.execute(sa.select(sa.func.coalesce(sa.func.max(T.c.seq), 0)))).scalar_one())


async def main(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'hospital.db'}"
    migrate(url)
    settings = Settings(environment="test", data_dir=tmp, database_url=url)
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        await upsert_department(session, Actor.system("bench"), "03", "内科", True)
    await engine.dispose()
    port = free_port()
    sim_url = f"http://127.0.0.1:{port}"
    simulator = start_simulator(port)
    figures: dict[str, Any] = {"database": url.split(":", 1)[0], "events": args.events}
    try:
        async with httpx.AsyncClient(base_url=sim_url) as admin:
            await wait_up(admin)
            connector = ConnectorSettings(url=sim_url, unit_id=UNIT, app_key=KEY, app_secret=SECRET,
                                          organ_id="91310115MA1HDEMO0X", organ_name="示范互联网医院")
            async with open_dispatcher(settings, connector) as dispatcher:
                plain = await baseline(dispatcher, sim_url, args.events)
                print(f"plain loop (encrypt, sign, POST, one at a time): {plain:8.0f} events/s")
                await admin.post("/sim/reset")
                await commit_events(settings, args.events)
                delivered = args.events / await run_until_sent(dispatcher)
                print(f"dispatcher, {args.events} committed events:      {delivered:8.0f} events/s "
                      f"({delivered / plain:.0%} of the plain loop)")
                await admin.post("/sim/reset")
                first = await max_seq(dispatcher)
                producing = asyncio.create_task(produce(settings, args.rate, args.seconds))
                await run_until_sent(dispatcher, producing)
                produced = producing.result()
                found = await lags(dispatcher, first)
                p50, p99 = statistics.median(found), found[min(len(found) - 1, int(len(found) * 0.99))]
                print(f"steady {args.rate:.0f} events/s for {args.seconds:.0f} s ({produced} events): "
                      f"lag commit → acknowledgement p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
                      f"max {found[-1] * 1000:.0f} ms")
                figures.update(plain_loop_events_per_s=round(plain), dispatcher_events_per_s=round(delivered),
                               ratio_to_plain_loop=round(delivered / plain, 3), steady_rate=args.rate,
                               steady_events=produced, lag_p50_ms=round(p50 * 1000, 1),
                               lag_p99_ms=round(p99 * 1000, 1), lag_max_ms=round(found[-1] * 1000, 1))
    finally:
        simulator.terminate()
        simulator.wait(10)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default="")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would be measured too
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
