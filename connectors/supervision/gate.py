"""SUP-01 at the door: where the connection is required (production, or `HOSPITAL_SUPERVISION_REQUIRED=1`),
clinical writes are refused with 503 SUP-01 until the platform is configured and has accepted the hospital once,
and `/ready` is red while no platform is configured.

"Accepted once" is read from the outbox: an event `sent` means the platform took a signed request of ours (the
institution record is the first the connector files). Once seen, a process does not ask again. The gate is a
litestar guard on every route; it acts only on writes under the clinical paths (booking and the visit, EMR,
prescriptions, review, dispensing), so an administrator can still record the licence, admit staff and read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.supervision.rules import check_platform_connected
from connectors.supervision.settings import ConnectorSettings, SupervisionConfigError
from hospital.core.outbox import OutboxEvent, OutboxStatus

__all__ = ["CLINICAL_PATHS", "PlatformGate", "platform_accepted"]

T = OutboxEvent.__table__  # type: ignore[attr-defined]
CLINICAL_PATHS = ("/api/visits", "/api/prescriptions", "/api/dispensings")
NOT_CLINICAL = ("/rating",)  # a patient's rating of a finished visit is no clinical act
READS = frozenset({"GET", "HEAD", "OPTIONS"})


async def platform_accepted(session: AsyncSession) -> bool:
    """Has the platform ever accepted an event of ours?"""
    found = await session.execute(sa.select(T.c.seq).where(T.c.status == OutboxStatus.SENT.value).limit(1))
    return found.first() is not None


def is_clinical_write(method: str, path: str) -> bool:
    return (method.upper() not in READS and path.startswith(CLINICAL_PATHS)
            and not path.rstrip("/").endswith(NOT_CLINICAL))


class PlatformGate:
    def __init__(self, settings: ConnectorSettings, *, production: bool) -> None:
        self.settings = settings
        self.required = settings.required if settings.required is not None else production
        self._accepted = False

    @property
    def configured(self) -> bool:
        if not self.settings.configured:
            return False
        try:
            self.settings.check()
        except SupervisionConfigError:
            return False
        return True

    async def check(self, factory: async_sessionmaker[AsyncSession]) -> None:
        """Raise `ServiceStopped` (503, SUP-01) when clinical work must wait for the platform."""
        if not self.required:
            return
        configured = self.configured
        if configured and not self._accepted:
            async with factory() as session:
                self._accepted = await platform_accepted(session)
                await session.rollback()
        check_platform_connected(required=True, configured=configured, accepted=self._accepted)

    async def guard(self, connection: Any, _: Any) -> None:
        """The litestar guard: clinical writes only."""
        if self.required and is_clinical_write(connection.scope.get("method", "GET"), connection.scope["path"]):
            await self.check(connection.app.state.session_factory)

    def readiness_probe(self) -> Callable[[], Awaitable[str]] | None:
        """For `/ready`: red while the connection is required and no platform is configured (None: not required,
        or configured, where the lag probe speaks)."""
        if not self.required or self.configured:
            return None

        async def probe() -> str:
            return "SUP-01: no supervision platform configured (HOSPITAL_SUPERVISION_URL and credentials)"

        return probe
