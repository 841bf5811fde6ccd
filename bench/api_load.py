"""The whole flow under load: many patients at once (register, log in, consent, prior diagnosis, book; the doctor
accepts, starts, writes and signs the EMR, prescribes; the pharmacist reviews and dispenses) against PostgreSQL
through nginx (TLS) and two app replicas, beside a bare litestar endpoint doing one insert on the same database,
two processes behind nginx too, in the same run.

Run: python bench/api_load.py [--users 30] [--concurrency 10] [--bare-requests 2000]
     (PostgreSQL at HOSPITAL_TEST_POSTGRES_URL or 127.0.0.1:5432 as user postgres; Debian's nginx:
     scripts/ensure-nginx.sh; ../shared/faces for the clinicians' face verifications)

A fresh database is created and dropped. Replica app-1 runs `hospital demo` (it seeds the demo), app-2
`hospital serve`; each has one face worker and the production argon2 cost (about 0.5 s of a core per hash: a
registration and a log-in each hash once). The log-in rate limit is raised for the run (every simulated patient
comes from 127.0.0.1). Printed: throughput (journeys/s and requests/s), p50/p99 of each step, the bare insert's
requests/s and p50/p99, and their ratios. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from bench._cluster import nginx, replicas  # noqa: E402
from bench._journey import STEPS, Journey, Recorder, clinicians, patient_journey, publish_schedule  # noqa: E402

ADMIN_URL = os.environ.get("HOSPITAL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
FACES = Path(os.environ.get("HOSPITAL_SHARED_DIR", REPO.parent / "shared")) / "faces"


# --- the bare endpoint: litestar, SQLAlchemy's async engine on asyncpg, one INSERT per request -------------------

def bare_app() -> Any:
    from litestar import Litestar, get, post
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(os.environ["BARE_DATABASE_URL"], pool_size=10)

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @post("/insert")
    async def insert(data: dict[str, Any]) -> dict[str, str]:
        row = str(uuid.uuid4())
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO bench_bare (id, payload) VALUES (:id, :payload)"),
                               {"id": row, "payload": json.dumps(data)})
        return {"id": row}

    return Litestar([health, insert])


def serve_bare(port: int) -> None:
    import uvicorn

    uvicorn.run(bare_app(), host="127.0.0.1", port=port, log_level="warning")


# --- the run -------------------------------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50_ms": round(percentile(values, 0.5) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1), "mean_ms": round(statistics.fmean(values) * 1000, 1)}


async def admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def hospital_load(edge_url: str, context: Any, users: int, concurrency: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=edge_url, verify=context, timeout=300, limits=limits) as client:
        doctor, pharmacist = clinicians(FACES)
        setup = Recorder()
        journey = Journey(await publish_schedule(client, doctor, setup, capacity=users + 10), doctor, pharmacist)
        recorder = Recorder()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(users):
            queue.put_nowait(n)

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                try:
                    await patient_journey(client, journey, 1000 + n, recorder)
                except AssertionError as failure:
                    recorder.failures.append(str(failure)[:300])

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    requests = len(recorder.replicas)
    served = {name: sum(1 for r in recorder.replicas if r.startswith(name + ":")) for name in ("app-1", "app-2")}
    return {"wall_s": round(wall, 2), "journeys": users - len(recorder.failures), "failures": recorder.failures[:5],
            "journeys_per_s": round((users - len(recorder.failures)) / wall, 3), "requests": requests,
            "requests_per_s": round(requests / wall, 1), "served_by": served,
            "steps": {step: summary(recorder.seconds[step]) for step in STEPS if recorder.seconds[step]}}


async def bare_load(edge_url: str, context: Any, total: int, concurrency: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    seconds: list[float] = []
    async with httpx.AsyncClient(base_url=edge_url, verify=context, timeout=60, limits=limits) as client:
        remaining = list(range(total))

        async def worker() -> None:
            while remaining:
                n = remaining.pop()
                began = time.perf_counter()
                answer = await client.post("/insert", json={"n": n, "note": "bare"})
                assert answer.status_code == 201, answer.text
                seconds.append(time.perf_counter() - began)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {"wall_s": round(wall, 2), "requests": total, "requests_per_s": round(total / wall, 1), **summary(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--bare-requests", type=int, default=2000)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return

    import subprocess

    from bench._cluster import free_port, wait_until_ready

    name = f"hospital_bench_{os.getpid()}"
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory(prefix="api-load-") as scratch:
            work = Path(scratch)
            env = {"HOSPITAL_LOGIN_RATE": "1000000", "HOSPITAL_SHARED_DIR": str(FACES.parent)}
            with replicas(url, work / "data", first_command="demo", env=env) as apps, \
                    nginx([a.port for a in apps], work / "nginx") as edge:
                hospital = asyncio.run(hospital_load(edge.url, edge.ssl_context, args.users, args.concurrency))
            # The bare endpoint: two processes behind the same nginx configuration, on the same database.
            asyncio.run(admin_in(url, "CREATE TABLE bench_bare (id uuid PRIMARY KEY, at timestamptz NOT NULL "
                                      "DEFAULT now(), payload jsonb NOT NULL)"))
            bare_processes = []
            ports = [free_port(), free_port()]
            for port in ports:
                log = work / f"bare-{port}.log"
                process = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port)], cwd=REPO,
                                           env={**os.environ, "BARE_DATABASE_URL": url}, stdout=log.open("wb"),
                                           stderr=subprocess.STDOUT)
                bare_processes.append(process)
                wait_until_ready(f"http://127.0.0.1:{port}/health", process, log)
            try:
                with nginx(ports, work / "nginx-bare") as bare_edge:
                    bare = asyncio.run(bare_load(bare_edge.url, bare_edge.ssl_context, args.bare_requests,
                                                 args.concurrency))
            finally:
                for process in bare_processes:
                    process.terminate()
                    process.wait(timeout=30)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    print(f"hospital: {hospital['journeys']} journeys in {hospital['wall_s']} s, {hospital['journeys_per_s']} "
          f"journeys/s, {hospital['requests_per_s']} requests/s, served by {hospital['served_by']}")
    for step, figures in hospital["steps"].items():
        print(f"  {step:16s} p50 {figures['p50_ms']:8.1f} ms   p99 {figures['p99_ms']:8.1f} ms"
              f"   ({figures['p50_ms'] / bare['p50_ms']:.1f}x the bare insert's p50)")
    print(f"bare insert: {bare['requests_per_s']} requests/s, p50 {bare['p50_ms']} ms, p99 {bare['p99_ms']} ms")
    figures = {"users": args.users, "concurrency": args.concurrency, "hospital": hospital, "bare_insert": bare,
               "bare_vs_hospital_requests_per_s": round(bare["requests_per_s"] / hospital["requests_per_s"], 1)}
    print(json.dumps(figures, ensure_ascii=False))


async def admin_in(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
