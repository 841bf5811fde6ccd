"""Putting a dispatcher together from configuration: the engine, the directory, the platform (chosen once, by
`HOSPITAL_SUPERVISION_PROTOCOL`, in `platform.open_platform`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import httpx

from connectors.supervision.directory import Directory
from connectors.supervision.dispatcher import Dispatcher
from connectors.supervision.platform import open_platform
from connectors.supervision.settings import ConnectorSettings
from hospital.config import Settings
from hospital.core.crypto import FieldCipher
from hospital.core.types import utcnow
from hospital.db import create_engine, is_sqlite, session_factory

__all__ = ["open_dispatcher"]


@asynccontextmanager
async def open_dispatcher(hospital: Settings, settings: ConnectorSettings, *, http: httpx.AsyncClient | None = None,
                          name: str | None = None, clock: Callable[[], datetime] | None = None
                          ) -> AsyncIterator[Dispatcher]:
    """A dispatcher with its own engine and HTTP client (or the given one, e.g. an ASGI transport in tests)."""
    settings.check()
    url = hospital.resolved_database_url
    engine = create_engine(url, pool_size=max(5, settings.concurrency)) if not is_sqlite(url) else create_engine(url)
    own_http = http is None
    client = http or httpx.AsyncClient(timeout=httpx.Timeout(settings.timeout_s),
                                       limits=httpx.Limits(max_connections=settings.concurrency * 2))
    # On SQLite the dispatcher's writes begin IMMEDIATE; its reads (the directory, status) must not, or a read
    # inside a write transaction would wait for that transaction's own lock.
    reader = create_engine(url, immediate=False) if is_sqlite(url) else engine
    factory = session_factory(engine)
    platform = open_platform(settings, client)
    directory = Directory(session_factory(reader), FieldCipher(hospital.field_key))
    try:
        yield Dispatcher(factory, settings, platform, directory, postgres=not is_sqlite(url), name=name,
                         reader=session_factory(reader), clock=clock or utcnow)
    finally:
        await platform.aclose()
        if own_http:
            await client.aclose()
        if reader is not engine:
            await reader.dispose()
        await engine.dispose()
