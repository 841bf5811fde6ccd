"""Job leases: several runners of one job (replicas, a CronJob and an operator by hand) and only one works.

A job takes its lease by name before it works and skips the round when another holder has it:

    async with job_lease(engine, "retention-purge", holder, ttl=timedelta(hours=1), now=ctx.now()) as lease:
        if not lease.held:
            return  # another runner is at it (lease.holder names it)

Two guards, each for what it covers:
- **A lease row** (`job_lease`: name, holder, until), on both engines: taken in one transaction when it is free
  or run out (SQLite: the IMMEDIATE transaction serialises the takers; PostgreSQL: the row is locked FOR UPDATE,
  a first insert races on the primary key). With `keep=True` it is kept until `until` after the work: a periodic
  job run by every replica then runs once per interval, not once per replica.
- **On PostgreSQL, a session advisory lock** held on its own connection for as long as the work runs: a job that
  outlives its row's `until` is still alone, and a runner that dies releases it with its connection.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlmodel import Field, SQLModel

from hospital.core.types import UTCDateTime

__all__ = ["JobLease", "Lease", "job_lease", "lease_key", "runner_name"]


class JobLease(SQLModel, table=True):
    __tablename__ = "job_lease"

    name: str = Field(primary_key=True)
    holder: str
    acquired_at: datetime = Field(sa_type=UTCDateTime)
    until: datetime = Field(sa_type=UTCDateTime)


@dataclass
class Lease:
    name: str
    held: bool
    holder: str  # who holds it: this runner when held, else the other one (or "" when only the lock told)


def runner_name() -> str:
    """Who runs a job here: the replica (HOSPITAL_REPLICA, else the host name) and the process."""
    return f"{os.environ.get('HOSPITAL_REPLICA') or socket.gethostname()}:{os.getpid()}"


def lease_key(name: str) -> int:
    """The advisory-lock key of a job: a signed 64-bit number from its name (stable across processes)."""
    return int.from_bytes(hashlib.sha256(f"job-lease:{name}".encode()).digest()[:8], "big", signed=True)


async def _take_row(engine: AsyncEngine, name: str, holder: str, now: datetime, ttl: timedelta) -> Lease:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        postgres = engine.dialect.name == "postgresql"
        query = sa.select(JobLease).where(JobLease.name == name)  # type: ignore[arg-type]
        row = (await session.execute(query.with_for_update() if postgres else query)).scalar_one_or_none()
        if row is not None and row.holder != holder and row.until > now:
            other = row.holder
            await session.rollback()
            return Lease(name, False, other)
        if row is None:
            session.add(JobLease(name=name, holder=holder, acquired_at=now, until=now + ttl))
        else:
            row.holder, row.acquired_at, row.until = holder, now, now + ttl
        try:
            await session.commit()
        except sa.exc.IntegrityError:  # another runner inserted the first row meanwhile
            await session.rollback()
            return Lease(name, False, "")
        return Lease(name, True, holder)


async def _give_back(engine: AsyncEngine, name: str, holder: str, now: datetime) -> None:
    async with AsyncSession(engine) as session:
        await session.execute(sa.update(JobLease).where(
            JobLease.name == name, JobLease.holder == holder).values(until=now))  # type: ignore[arg-type]
        await session.commit()


@asynccontextmanager
async def job_lease(engine: AsyncEngine, name: str, holder: str, *, ttl: timedelta, now: datetime,
                    keep: bool = False) -> AsyncIterator[Lease]:
    """Take the job's lease for `ttl` from `now`; yield whether it is held. On leaving, the row's lease is given
    back (its `until` set to `now`) unless `keep`, and the advisory lock is released."""
    lock: AsyncConnection | None = None
    if engine.dialect.name == "postgresql":
        lock = await engine.connect()
        got = (await lock.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": lease_key(name)})).scalar_one()
        await lock.commit()  # a session lock: it outlives the transaction, not the connection
        if not got:
            await lock.close()
            yield Lease(name, False, "")
            return
    try:
        lease = await _take_row(engine, name, holder, now, ttl)
        try:
            yield lease
        finally:
            if lease.held and not keep:
                await _give_back(engine, name, holder, now)
    finally:
        if lock is not None:
            await lock.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lease_key(name)})
            await lock.commit()
            await lock.close()
