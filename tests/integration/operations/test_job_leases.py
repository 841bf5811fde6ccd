"""Jobs without double work (hospital/core/leases.py): several runners of one job — replicas, a CronJob, an
operator — and one works while the others skip. On PostgreSQL a session advisory lock guards the running job
and the lease row its period; on SQLite the lease row does both."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hospital.backup.service import BackupRefused, take_backup
from hospital.cli import main
from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.core.leases import job_lease
from hospital.db import create_engine, session_factory
from hospital.retention.service import PURGE_LEASE
from hospital.security.detection.jobs import SecurityScans
from tests.conftest import FakeClock

HOUR = timedelta(hours=1)


@pytest.fixture
async def engines(settings: Settings) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines: two runners in two processes, each with its own connections."""
    one, two = create_engine(settings.resolved_database_url), create_engine(settings.resolved_database_url)
    yield one, two
    await one.dispose()
    await two.dispose()


async def test_one_runner_holds_a_lease_the_other_is_told_who_and_it_is_free_again_after(
    engines: tuple[AsyncEngine, AsyncEngine], clock: FakeClock
) -> None:
    one, two = engines
    async with job_lease(one, "job", "replica-a:1", ttl=HOUR, now=clock()) as first:
        assert first.held
        async with job_lease(two, "job", "replica-b:2", ttl=HOUR, now=clock()) as second:
            assert not second.held
        async with job_lease(two, "another-job", "replica-b:2", ttl=HOUR, now=clock()) as other:
            assert other.held  # leases are per job
    async with job_lease(two, "job", "replica-b:2", ttl=HOUR, now=clock()) as after:
        assert after.held  # given back on leaving


async def test_a_kept_lease_holds_for_its_period_then_runs_out(
    engines: tuple[AsyncEngine, AsyncEngine], clock: FakeClock
) -> None:
    one, two = engines
    async with job_lease(one, "periodic", "replica-a:1", ttl=HOUR, now=clock(), keep=True) as first:
        assert first.held
    async with job_lease(two, "periodic", "replica-b:2", ttl=HOUR, now=clock()) as second:
        assert not second.held and second.holder in ("replica-a:1", "")
    clock.advance(minutes=61)
    async with job_lease(two, "periodic", "replica-b:2", ttl=HOUR, now=clock()) as later:
        assert later.held


async def test_runners_started_at_once_do_the_work_once(settings: Settings, clock: FakeClock) -> None:
    """Four runners, each with its own engine, start the same job together: the work is done once."""
    done: list[str] = []

    async def runner(name: str) -> None:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with job_lease(engine, "batch", name, ttl=HOUR, now=clock()) as lease:
                if lease.held:
                    await asyncio.sleep(0.3)  # the work, long enough for the others to try meanwhile
                    done.append(name)
        finally:
            await engine.dispose()

    await asyncio.gather(*(runner(f"runner-{n}") for n in range(4)))
    assert len(done) == 1


async def test_replicas_scanning_every_interval_scan_once_per_interval(
    settings: Settings, ctx: HospitalContext, engines: tuple[AsyncEngine, AsyncEngine], clock: FakeClock,
    session: AsyncSession,
) -> None:
    one, two = engines
    replicas = [SecurityScans(ctx, session_factory(engine)) for engine in engines]
    replicas[0].holder, replicas[1].holder = "app-1:10", "app-2:10"
    assert await replicas[0].run_leased(one, 600) is not None
    assert await replicas[1].run_leased(two, 600) is None  # scanned 0 s ago by the other replica
    clock.advance(seconds=300)
    assert await replicas[1].run_leased(two, 600) is None
    clock.advance(seconds=241)  # 0.9 intervals after the first scan
    assert await replicas[1].run_leased(two, 600) is not None
    assert await replicas[0].run_leased(one, 600) is None


async def test_a_purge_while_another_runs_purges_nothing_and_a_backup_waits_for_neither(
    settings: Settings, ctx: HospitalContext, engines: tuple[AsyncEngine, AsyncEngine], clock: FakeClock,
    session: AsyncSession, tmp_path: Path,
) -> None:
    env = {"HOSPITAL_DATABASE_URL": settings.resolved_database_url, "HOSPITAL_DATA_DIR": str(settings.data_dir)}
    one, _ = engines
    async with job_lease(one, PURGE_LEASE, "cronjob-purge:7", ttl=HOUR, now=ctx.now()) as running:
        assert running.held
        second = await asyncio.to_thread(CliRunner().invoke, main, ["retention", "purge", "--execute"], env=env)
        assert second.exit_code == 1 and "another retention purge or a backup is running" in second.output
        with pytest.raises(BackupRefused, match="a retention purge is running"):
            await take_backup(dataclasses.replace(settings), tmp_path / "b.tar")
    assert not (tmp_path / "b.tar").exists()
    purges = (await session.execute(select(AuditEntry).where(AuditEntry.action == "retention.purged"))).scalars().all()
    assert purges == []
    after = await asyncio.to_thread(CliRunner().invoke, main, ["retention", "purge", "--execute"], env=env)
    assert after.exit_code == 0, after.output
