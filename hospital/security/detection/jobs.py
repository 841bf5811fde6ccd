"""The periodic scan (SEC-02) in the app's lifespan: every `HOSPITAL_SECURITY_SCAN_INTERVAL` seconds.

Cheap by design: the look-back reads use the audit trail's action index, and the chain is walked in full on the
first scan and once a day, otherwise only from where the last walk ended (the entry it ended on is re-checked,
so a truncated tail is still found). Replicas all run the loop, but a round takes the "security-scan" job lease
(hospital/core/leases.py) and keeps it for most of the interval: one replica scans each interval, the others
skip (scans are also serialised and idempotent, so a lease that ran out does no harm). Off when the
interval is 0 (a `Settings` built in code, as the tests build it); `hospital security scan` runs one by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hospital.context import HospitalContext
from hospital.core.audit import Actor
from hospital.core.leases import job_lease, runner_name
from hospital.security.detection import service

__all__ = ["FULL_WALK_EVERY", "SecurityScans", "close_security_scans", "open_security_scans"]

log = logging.getLogger("hospital.security")

FULL_WALK_EVERY = timedelta(days=1)


class SecurityScans:
    def __init__(self, ctx: HospitalContext, sessions: Callable[[], AsyncSession]) -> None:
        self.ctx = ctx
        self.sessions = sessions
        self.cursor: service.ChainCursor | None = None
        self.last_full_walk: datetime | None = None
        self.task: asyncio.Task[None] | None = None
        self.engine: AsyncEngine | None = None
        self.holder = runner_name()  # this replica's name on the job lease

    async def run_once(self) -> service.ScanReport:
        now = self.ctx.now()
        full = self.cursor is None or self.last_full_walk is None or now - self.last_full_walk >= FULL_WALK_EVERY
        async with self.sessions() as session:
            report = await service.scan(session, self.ctx, Actor.system("security-scan"),
                                        cursor=None if full else self.cursor)
        self.cursor = report.cursor
        if full:
            self.last_full_walk = now
        if report.opened or report.updated:
            log.warning("security scan: opened %s, updated %s (SEC-02)", report.opened, report.updated)
        return report

    async def run_leased(self, engine: AsyncEngine, interval: float) -> service.ScanReport | None:
        """One periodic round: the scan, unless another replica scanned within the last 0.9 intervals (None)."""
        async with job_lease(engine, "security-scan", self.holder, ttl=timedelta(seconds=interval * 0.9),
                             now=self.ctx.now(), keep=True) as lease:
            if not lease.held:
                log.debug("security scan: %s holds the lease; skipped", lease.holder or "another runner")
                return None
            return await self.run_once()

    async def _loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                if self.engine is None:
                    await self.run_once()
                else:
                    await self.run_leased(self.engine, interval)
            except Exception:  # the next interval tries again; the failure is in the log
                log.exception("security scan failed")


def open_security_scans(ctx: HospitalContext, sessions: Callable[[], AsyncSession],
                        engine: AsyncEngine | None = None) -> SecurityScans | None:
    """Start the periodic scans; with the app's `engine`, each round takes the job lease first."""
    interval = ctx.settings.security_scan_interval_seconds
    if interval <= 0:
        return None
    scans = SecurityScans(ctx, sessions)
    scans.engine = engine
    scans.task = asyncio.get_running_loop().create_task(scans._loop(interval), name="security-scans")
    ctx.scans = scans
    return scans


async def close_security_scans(ctx: HospitalContext) -> None:
    scans, ctx.scans = ctx.scans, None
    if scans is not None and scans.task is not None:
        scans.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await scans.task
