"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL (production, CI).

Services receive an `AsyncSession` and are the only code that commits (DESIGN conventions 2). On SQLite every
transaction begins IMMEDIATE, so two writers queue rather than fail with a stale snapshot; on PostgreSQL the
few writes that must be serialised take a row or advisory lock where they happen.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

__all__ = [
    "alembic_config",
    "create_engine",
    "current_revision",
    "head_revision",
    "is_sqlite",
    "migrate",
    "session_factory",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, *, immediate: bool = True, **kw: Any) -> AsyncEngine:
    """`immediate=False` is for observers (tests, reports) that only read: they must not hold the write lock."""
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kw)
        _configure_sqlite(engine, immediate=immediate)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kw)


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so we can open them IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # medical records: durability over speed
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The sessions every entry point opens: their audit entries are chained at commit (AUD-01)."""
    from hospital.core.audit import chained_session_class  # the models load with the first session, not at import

    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True,
                              sync_session_class=chained_session_class())


@asynccontextmanager
async def open_session(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        yield session


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`. Alembic runs its own event loop, so inside a running loop the work
    moves to a thread of its own."""
    if is_sqlite(url):
        _ensure_sqlite_dir(url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(alembic_config(url), revision)
        return
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(command.upgrade, alembic_config(url), revision).result()


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


@functools.cache
def head_revision() -> str | None:
    """The newest migration of this release: read once per process (`/ready` asks on every probe, and reading
    the scripts parses every migration file)."""
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
