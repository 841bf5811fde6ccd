"""The audit chain's lock under concurrent writers on PostgreSQL (AUD-01, issue 22's hot path).

N connections each run use-case-shaped transactions: append one audit entry, then the rest of the use case (an
outbox event, an update of a row of its own, a read, and `--work-ms` of the replica's own work between statements,
awaited as a request's Python work would be), then commit. Two ways, the same process and database, alternating
rounds (the best round of each counts, the machine being shared):
  - baseline: the entry is chained where it is appended, as before issue 22 (advisory lock and tail read
    mid-transaction, so the lock is held through the rest of the use case until commit);
  - at commit: `append_audit` as it is now, chained by the session's before-commit hook (the lock covers the audit
    insert and the commit).
The chain is verified at the end. The last line is one JSON object: transactions/s of each, and the ratio.
Run: PYTHONPATH=. /work/main/.venv/bin/python bench/audit_chain.py [--connections 16] [--transactions 40]
     [--work-ms 2] [--rounds 2]      (creates and drops a fresh database on 127.0.0.1:5432, user postgres)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hospital.core.audit import _AUDIT_LOCK_KEY, GENESIS_HASH, Actor, AuditEntry, append_audit, entry_hash, verify_chain
from hospital.core.outbox import OutboxEvent
from hospital.db import create_engine, migrate, session_factory

ADMIN = os.environ.get("HOSPITAL_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
ACTOR = Actor.system("bench")
Append = Callable[[AsyncSession, str], Awaitable[object]]


async def append_chained_now(session: AsyncSession, subject: str) -> AuditEntry:
    """The baseline: `append_audit` before issue 22, chaining where it is called."""
    await session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
    last = (await session.execute(sa.select(AuditEntry.entry_hash)  # type: ignore[call-overload]
                                  .order_by(AuditEntry.seq.desc()).limit(1))).scalar_one_or_none()  # type: ignore[union-attr]
    entry = AuditEntry(actor_id=None, actor_role=ACTOR.role, action="bench.done", subject_type="bench",
                       subject_id=subject, detail={}, prev_hash=last or GENESIS_HASH, entry_hash="")
    entry.entry_hash = entry_hash(entry)
    session.add(entry)
    await session.flush()
    return entry


async def append_at_commit(session: AsyncSession, subject: str) -> AuditEntry:
    return await append_audit(session, ACTOR, "bench.done", subject_type="bench", subject_id=subject)


async def use_case(session: AsyncSession, append: Append, worker: int, work_s: float) -> None:
    subject = str(uuid.uuid4())
    await append(session, subject)
    await asyncio.sleep(work_s)
    session.add(OutboxEvent(event_type="bench.done", subject_type="bench", subject_id=subject,
                            idempotency_key=f"bench.done:{subject}:1", payload={"worker": worker}))
    await session.flush()
    await asyncio.sleep(work_s)
    await session.execute(sa.text("UPDATE bench_row SET n = n + 1 WHERE worker = :w"), {"w": worker})
    await session.execute(sa.text("SELECT n FROM bench_row WHERE worker = :w"), {"w": worker})
    await asyncio.sleep(work_s)
    await session.commit()


async def run(sessions: async_sessionmaker[AsyncSession], append: Append, connections: int, transactions: int,
              work_s: float) -> float:
    async def worker(w: int) -> None:
        async with sessions() as session:
            for _ in range(transactions):
                await use_case(session, append, w, work_s)

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(connections)))
    return connections * transactions / (time.perf_counter() - start)


async def main(args: argparse.Namespace) -> dict[str, object]:
    name = f"bench_audit_{os.getpid()}"
    admin = await asyncpg.connect(ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url, pool_size=args.connections, max_overflow=0)
    try:
        migrate(url)
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE bench_row (worker int PRIMARY KEY, n int NOT NULL)"))
            await conn.execute(sa.text("INSERT INTO bench_row SELECT g, 0 FROM generate_series(0, :n) g"),
                               {"n": args.connections})
        sessions = session_factory(engine)
        load_start = [round(x, 2) for x in os.getloadavg()]
        await run(sessions, append_at_commit, args.connections, 3, 0)  # warm the pool and the statement caches
        best = {"baseline": 0.0, "at_commit": 0.0}
        for _ in range(args.rounds):
            for way, append in (("baseline", append_chained_now), ("at_commit", append_at_commit)):
                rate = await run(sessions, append, args.connections, args.transactions, args.work_ms / 1000)
                print(f"{way}: {rate:.0f} transactions/s")
                best[way] = max(best[way], rate)
        async with sessions() as session:
            checked, broken = await verify_chain(session)
        return {"connections": args.connections, "transactions_per_connection": args.transactions,
                "work_ms_between_statements": args.work_ms, "rounds": args.rounds,
                "baseline_tx_per_s": round(best["baseline"], 1), "at_commit_tx_per_s": round(best["at_commit"], 1),
                "ratio_at_commit_to_baseline": round(best["at_commit"] / best["baseline"], 2),
                "chain_entries": checked, "chain_verified": broken is None,
                "load_average_start": load_start, "load_average_end": [round(x, 2) for x in os.getloadavg()]}
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--transactions", type=int, default=40)
    parser.add_argument("--work-ms", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
