"""The outbox dispatcher end to end against the simulated platform on loopback (SUP-02).

Phases of one run, the simulator in its own process (uvicorn on 127.0.0.1):
  1. baseline: a plain loop posting the same records with `GatewayClient` (encrypt, sign, POST, one at a time);
  2. throughput: the same number of events committed to the outbox, then one dispatcher delivers them all,
     first one event per request (the plain loop's payloads), then with its default batching of records;
  3. lag: events committed one per transaction at a steady rate by another process (four connections, as an app
     serving concurrent requests) while the dispatcher runs; lag is commit → acknowledgement, p50 and p99;
  4. (PostgreSQL) parallel dispatchers: the same number of committed events delivered by one dispatcher process,
     then by two (new events routed and due ones claimed with FOR UPDATE SKIP LOCKED, so each maps its own share),
     each run timed from start to the last acknowledgement.
On PostgreSQL each phase starts on a vacuumed and analysed outbox (`VACUUM (ANALYZE)`, untimed): what autovacuum
does on a server that runs it, and the test server here runs with it off; without statistics the planner reads
the new events through every dead row version the earlier phases left, and the figures measure that instead.
The machine is shared: the last JSON line carries the load average at the start and the end, and ratios taken
within the run (batched / plain loop, two dispatchers / one, committed / asked), which are what compare across runs.
The events rotate over the methods of the real day that need no clinical rows behind them: staff records
(uploadDoctorIndicators), complaints at filing (pushMedicalDispute), security incidents as risk warnings
(pushMedicalDispute, businessType 3), each sealed as the hospital seals it.
Run: PYTHONPATH=. /work/venv/bin/python bench/outbox.py [--events 2000] [--rate 1000] [--seconds 10]
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
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import sqlalchemy as sa

from connectors.supervision.dispatcher import Dispatcher
from connectors.supervision.gateway.client import GatewayClient
from connectors.supervision.gateway.responses import Accepted
from connectors.supervision.mapping import EventView, Mapped, event_view, map_event
from connectors.supervision.runner import open_dispatcher
from connectors.supervision.settings import ConnectorSettings
from hospital.config import Settings
from hospital.contracts import Payload
from hospital.contracts.quality import ComplaintFiled
from hospital.contracts.security import IncidentChanged
from hospital.contracts.staff import Credential, StaffRecord
from hospital.core.audit import Actor
from hospital.core.crypto import FieldCipher
from hospital.core.outbox import OutboxEvent, emit, stored_payload
from hospital.db import create_engine, migrate, session_factory
from hospital.institution.rules import SeniorPhysician
from hospital.institution.service import set_department

UNIT, KEY, SECRET = "UNIT-B", "KEY-B", "bbf1dd188b8b4629853f06f118d11e4a"
T = OutboxEvent.__table__  # type: ignore[attr-defined]
# (event type, subject type) of the rotation; the harness counts only these (not the connector's daily check-in).
KINDS = (("staff.record", "staff"), ("complaint.filed", "complaint"), ("security.incident", "security_incident"))
TYPES = tuple(kind for kind, _ in KINDS)


def staff_payload(staff_id: str) -> StaffRecord:
    """A clinician's record; its ID number is sealed as `emit` stores it (REC-03): the dispatcher opens it per event."""
    return StaffRecord(staff_id=staff_id, kind="doctor", name="周医生", id_number="110105199009093412", sex="male",
                       birth_date=date(1990, 9, 9), title="主治医师", clinical_years=5, departments=["03.03"],
                       practice_institution="示范市第一人民医院",
                       credentials=[Credential(kind="physician_qualification", number="Q1"),
                                    Credential(kind="physician_practice", number="P1")])


def payload_of(event_type: str, subject: str) -> Payload:
    """The event's payload as the area writes it (sealed parts: the ID number, the complaint, the incident)."""
    now = datetime.now(UTC)
    if event_type == "staff.record":
        return staff_payload(subject)
    if event_type == "complaint.filed":
        return ComplaintFiled(complaint_id=subject, category="service", description="等候时间较长，回复不及时",
                              filed_at=now)
    return IncidentChanged(incident_id=subject, change="opened", kind="data_leak", severity="high", status="open",
                           source="person", leak="suspected", personal_information=True, affected_subjects=3,
                           detected_at=now, summary="一份导出表格出现在外部网盘")


def kind_of(i: int) -> tuple[str, str]:
    return KINDS[i % len(KINDS)]


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
        event_type, subject_type = kind_of(i)
        view = event_view(i, event_type, subject_type, str(i), 1, now, payload_of(event_type, str(uuid.uuid4())))
        assert isinstance(view, EventView)
        outcome = map_event(view, ctx)
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
    cipher = FieldCipher(settings.field_key)
    async with session_factory(engine)() as session:
        for i in range(n):
            subject, (event_type, subject_type) = str(uuid.uuid4()), kind_of(i)
            await emit(session, event_type, subject_type=subject_type, subject_id=subject,
                       payload=payload_of(event_type, subject), cipher=cipher)
        await session.commit()
    await engine.dispose()


async def tidy(url: str) -> None:
    """PostgreSQL: vacuum and analyse the outbox between phases, as autovacuum would (see the docstring)."""
    if url.startswith("postgresql"):
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            await conn.execute("VACUUM (ANALYZE) outbox_event")
        finally:
            await conn.close()


async def undelivered(dispatcher: Dispatcher) -> int:
    """Events still to send (the partial index on undelivered events answers this without a scan: the harness's
    own polling must not cost the dispatcher it measures, which shares its process)."""
    async with dispatcher.reader() as session:
        return int((await session.execute(sa.select(sa.func.count()).select_from(T).where(
            T.c.event_type.in_(TYPES), T.c.status.in_(("pending", "retrying"))))).scalar_one())


async def refused(dispatcher: Dispatcher) -> int:
    """Events that did not reach the platform (dead-lettered, parked): a run with any measured nothing."""
    async with dispatcher.reader() as session:
        return int((await session.execute(sa.select(sa.func.count()).select_from(T).where(
            T.c.event_type.in_(TYPES), T.c.status.not_in(("pending", "retrying", "sent"))))).scalar_one())


async def run_until_sent(dispatcher: Dispatcher, producer: subprocess.Popen[bytes] | None = None) -> float:
    stop = asyncio.Event()
    start = time.perf_counter()
    task = asyncio.create_task(dispatcher.run(stop))
    while (producer is not None and producer.poll() is None) or await undelivered(dispatcher):
        await asyncio.sleep(0.1)  # the count shares the dispatcher's process: asked for rarely
    elapsed = time.perf_counter() - start
    stop.set()
    await task
    if await refused(dispatcher):
        raise SystemExit("some events were not delivered (dead or parked): see `hospital connector status`")
    return elapsed


async def produce(url: str, rate: float, seconds: float, connections: int = 4) -> tuple[int, float]:
    """Commit one event per transaction at `rate` per second in all for `seconds`, over several connections as an
    app serving concurrent requests does (the rows `emit` writes, sealed as it seals them, inserted with a plain
    INSERT so the producer's own cost stays small beside the dispatcher's)."""
    pool: dict[str, Any] = {} if url.startswith("sqlite") else {"pool_size": connections}
    engine = create_engine(url, **pool)
    cipher = FieldCipher(Settings(environment="test", database_url=url).field_key)
    start = time.perf_counter()
    share = rate / connections

    async def one_connection() -> int:
        sent = 0
        async with engine.connect() as conn:
            while (elapsed := time.perf_counter() - start) < seconds:
                while sent < int(elapsed * share) + 1 and time.perf_counter() - start < seconds:
                    subject, now, (event_type, subject_type) = str(uuid.uuid4()), datetime.now(UTC), kind_of(sent)
                    await conn.execute(sa.insert(T).values(
                        id=uuid.uuid4(), created_at=now, event_type=event_type, subject_type=subject_type,
                        subject_id=subject, version=1, payload=stored_payload(payload_of(event_type, subject), cipher),
                        idempotency_key=f"{event_type}:{subject}:1", status="pending", attempts=0, next_attempt_at=now))
                    await conn.commit()
                    sent += 1
                await asyncio.sleep(max(0.0, sent / share - (time.perf_counter() - start)))
        return sent

    async def one_asyncpg_connection() -> int:
        # PostgreSQL: the same row through asyncpg directly, one statement and its implicit commit per event — the
        # load generator shares the machine's two cores with what it loads, so it spends as little as it can.
        sent = 0
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        insert = await conn.prepare(
            "INSERT INTO outbox_event (id, created_at, event_type, subject_type, subject_id, version, payload, "
            "idempotency_key, status, attempts, next_attempt_at) "
            "VALUES ($1, $2, $6, $7, $3, 1, $4::json, $5, 'pending', 0, $2)")
        try:
            while (elapsed := time.perf_counter() - start) < seconds:
                while sent < int(elapsed * share) + 1 and time.perf_counter() - start < seconds:
                    subject, now = str(uuid.uuid4()), datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC
                    event_type, subject_type = kind_of(sent)
                    payload = json.dumps(stored_payload(payload_of(event_type, subject), cipher), ensure_ascii=False)
                    await insert.fetch(uuid.uuid4(), now, subject, payload, f"{event_type}:{subject}:1", event_type,
                                       subject_type)
                    sent += 1
                await asyncio.sleep(max(0.0, sent / share - (time.perf_counter() - start)))
        finally:
            await conn.close()
        return sent

    one = one_asyncpg_connection if url.startswith("postgresql") else one_connection
    counts = await asyncio.gather(*(one() for _ in range(connections)))
    took = time.perf_counter() - start
    await engine.dispose()
    return sum(counts), took


def start_producer(url: str, rate: float, seconds: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.Popen([sys.executable, __file__, "--produce", url, "--rate", str(rate), "--seconds",
                             str(seconds)], env=env, stdout=subprocess.PIPE)


async def lags(dispatcher: Dispatcher, since_seq: int) -> list[float]:
    async with dispatcher.reader() as session:
        rows = (await session.execute(sa.select(T.c.created_at, T.c.sent_at).where(
            T.c.seq > since_seq, T.c.event_type.in_(TYPES)))).all()
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
        await set_department(session, Actor.system("bench"), "03", "内科", True, [  # PD 8(二), as every path
            SeniorPhysician("基准主任", "主任医师", "110310000000801"),
            SeniorPhysician("基准副主任", "副主任医师", "110310000000802")])
    await engine.dispose()
    port = free_port()
    sim_url = f"http://127.0.0.1:{port}"
    simulator = start_simulator(port)
    figures: dict[str, Any] = {"database": url.split(":", 1)[0], "events": args.events,
                               "load_average_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        async with httpx.AsyncClient(base_url=sim_url) as admin:
            await wait_up(admin)
            connector = ConnectorSettings(url=sim_url, unit_id=UNIT, app_key=KEY, app_secret=SECRET,
                                          organ_id="91310115MA1HDEMO0X", organ_name="示范互联网医院")
            async with open_dispatcher(settings, connector.with_(batch_records=1)) as single:
                plain = await baseline(single, sim_url, args.events)
                print(f"plain loop (encrypt, sign, POST, one event at a time):   {plain:7.0f} events/s")
                await admin.post("/sim/reset")
                await commit_events(settings, args.events)
                await tidy(url)
                alone = args.events / await run_until_sent(single)
                print(f"dispatcher, one event per request:                   {alone:7.0f} events/s "
                      f"({alone / plain:.0%} of the plain loop)")
            async with open_dispatcher(settings, connector) as dispatcher:
                await admin.post("/sim/reset")
                await commit_events(settings, args.events)
                await tidy(url)
                batched = args.events / await run_until_sent(dispatcher)
                print(f"dispatcher, up to {connector.batch_records} records of a method per request:   "
                      f"{batched:7.0f} events/s ({batched / plain:.0%} of the plain loop)")
                await admin.post("/sim/reset")
                await tidy(url)
                first = await max_seq(dispatcher)
                started = time.perf_counter()
                producer = start_producer(url, args.rate, args.seconds)
                await run_until_sent(dispatcher, producer)
                produced_text, took_text = (producer.communicate()[0] or b"0 1").decode().split()
                produced = int(produced_text)
                achieved = produced / float(took_text)
                found = await lags(dispatcher, first)
                p50, p99 = statistics.median(found), found[min(len(found) - 1, int(len(found) * 0.99))]
                print(f"steady load, {args.rate:.0f} events/s asked, {achieved:.0f}/s committed by the producer for "
                      f"{args.seconds:.0f} s ({produced} events, all delivered {time.perf_counter() - started:.1f} s "
                      f"after the producer started): lag commit → acknowledgement p50 {p50 * 1000:.0f} ms, "
                      f"p99 {p99 * 1000:.0f} ms, max {found[-1] * 1000:.0f} ms")
                figures.update(plain_loop_events_per_s=round(plain), one_per_request_events_per_s=round(alone),
                               one_per_request_ratio=round(alone / plain, 3), batched_events_per_s=round(batched),
                               batched_ratio=round(batched / plain, 3), steady_rate_asked=args.rate,
                               steady_rate_committed=round(achieved), lag_p50_ms=round(p50 * 1000, 1),
                               lag_p99_ms=round(p99 * 1000, 1), lag_max_ms=round(found[-1] * 1000, 1))
            if url.startswith("postgresql"):
                n = args.parallel_events
                for processes in (1, 2):
                    await admin.post("/sim/reset")
                    await commit_events(settings, n)
                    await tidy(url)
                    sim_before, machine_before = cpu_seconds(simulator.pid), machine_cpu()
                    took, dispatcher_cpu = run_dispatcher_processes(url, sim_url, processes)
                    sim_cpu, machine = cpu_seconds(simulator.pid) - sim_before, machine_busy_share(machine_before)
                    rate = n / took
                    print(f"{processes} dispatcher process{'es' if processes > 1 else ''}, {n} committed events: "
                          f"{rate:7.0f} events/s; CPU per event: dispatchers {dispatcher_cpu / n * 1000:.2f} ms, "
                          f"simulator {sim_cpu / n * 1000:.2f} ms; the machine's cores {machine:.0%} busy")
                    figures[f"dispatchers_{processes}_events_per_s"] = round(rate)
                    figures[f"dispatchers_{processes}_cpu_ms_per_event"] = round(dispatcher_cpu / n * 1000, 3)
                    figures[f"dispatchers_{processes}_simulator_cpu_ms_per_event"] = round(sim_cpu / n * 1000, 3)
                    figures[f"dispatchers_{processes}_machine_busy"] = round(machine, 3)
                figures["two_over_one_dispatchers_ratio"] = round(
                    figures["dispatchers_2_events_per_s"] / figures["dispatchers_1_events_per_s"], 3)
            figures["steady_committed_over_asked_ratio"] = round(figures["steady_rate_committed"] / args.rate, 3)
            figures["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        simulator.terminate()
        simulator.wait(10)
    return figures


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all cores so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def machine_busy_share(since: tuple[int, int]) -> float:
    """The share of every core's time spent busy since `since`: near 100 % the machine has no core to give a
    second dispatcher, whatever the code does."""
    busy, total = machine_cpu()
    return (busy - since[0]) / max(1, total - since[1])


def run_dispatcher_processes(url: str, sim_url: str, processes: int,
                             lead_s: float = 15.0) -> tuple[float, float]:
    """Seconds from the agreed start of `processes` dispatcher processes to the last of them finding nothing left
    to send, and the CPU seconds they spent delivering. Each process starts (imports, engine, HTTP client) and then
    waits for the same wall-clock moment, so the figure is delivery alone, not Python's start-up."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    at = time.time() + lead_s
    running = [subprocess.Popen([sys.executable, __file__, "--dispatch", url, "--simulator", sim_url, "--at",
                                 str(at)], env=env, stdout=subprocess.PIPE) for _ in range(processes)]
    ends, cpu = [], 0.0
    for process in running:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit("a dispatcher process failed")
        end, spent = out.decode().split()[-2:]
        ends.append(float(end))
        cpu += float(spent)
    return max(ends) - at, cpu


async def dispatch(url: str, sim_url: str, at: float) -> tuple[float, float]:
    """One dispatcher process of phase 4: ready, wait for `at`, deliver until no bench event is left to send;
    returns the wall-clock time it finished and the CPU seconds it spent from `at`."""
    settings = Settings(environment="test", database_url=url)
    connector = ConnectorSettings(url=sim_url, unit_id=UNIT, app_key=KEY, app_secret=SECRET,
                                  organ_id="91310115MA1HDEMO0X", organ_name="示范互联网医院")
    async with open_dispatcher(settings, connector) as dispatcher:
        await dispatcher.start()
        await asyncio.sleep(max(0.0, at - time.time()))
        cpu = time.process_time()
        await run_until_sent(dispatcher)
        return time.time(), time.process_time() - cpu


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--parallel-events", type=int, default=10000,
                        help="events for the one-versus-two dispatcher runs (enough that the 0.1 s polling is noise)")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--produce", metavar="URL", help=argparse.SUPPRESS)  # the producer process of phase 3
    parser.add_argument("--dispatch", metavar="URL", help=argparse.SUPPRESS)  # a dispatcher process of phase 4
    parser.add_argument("--simulator", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--at", type=float, default=0.0, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.dispatch:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        print(*asyncio.run(dispatch(arguments.dispatch, arguments.simulator, arguments.at)))
        sys.exit(0)
    if arguments.produce:
        print(*asyncio.run(produce(arguments.produce, arguments.rate, arguments.seconds)))
        sys.exit(0)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would be measured too
    print(json.dumps(asyncio.run(main(arguments))))
