"""Fixtures shared by every test tier.

Integration tests take `db_url`, which is parametrised over SQLite and PostgreSQL: each test run builds one
fresh PostgreSQL database with `alembic upgrade head` (so migrations are tested) and drops it at the end; each
test starts from empty tables. PostgreSQL must be reachable (127.0.0.1:5432 on these machines): an unreachable
server is an error, never a skip. `HOSPITAL_TEST_DATABASES=sqlite` narrows a local run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.app import create_app
from hospital.config import Settings
from hospital.context import HospitalContext, build_context
from hospital.db import create_engine, migrate, session_factory
from hospital.wiring import wire
from tests.faces import RememberingFacePool

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HOSPITAL_SHARED_DIR", REPO.parent / "shared"))
POSTGRES_ADMIN_URL = os.environ.get("HOSPITAL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
# node ids, from the repository's root; the replica test starts two servers with face workers and nginx
MEDIA_TESTS = ("tests/e2e/", "tests/integration/video/", "tests/integration/operations/test_replicas.py")
DATABASES = [d.strip() for d in os.environ.get("HOSPITAL_TEST_DATABASES", "sqlite,postgresql").split(",") if d.strip()]


os.environ.setdefault("HOSPITAL_SHARED_DIR", str(SHARED))
pytest_plugins = ["tests.china_midnight"]


_RUN_SUMMARIES: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the run summaries a test records as the user property "run_summary" (e.g. the schemathesis run), which
    xdist carries from its workers, so the terminal summary can print them in CI's log even when the test passes."""
    if report.when == "call":
        _RUN_SUMMARIES.extend(f"{report.nodeid}: {value}" for key, value in report.user_properties if key == "run_summary")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _RUN_SUMMARIES:
        terminalreporter.section("run summaries")
        for line in _RUN_SUMMARIES:
            terminalreporter.write_line(line)
    # The axe-core counts of every page state the browser tests checked, summed over the workers (issue 14). Here,
    # not in tests/e2e/conftest.py: under xdist only this process prints, and it never loads that conftest.
    from tests.e2e.axe import tally

    counts = tally()
    if counts.states:
        terminalreporter.section("axe-core")
        terminalreporter.write_line(counts.line())
        for rule, count in counts.rules.most_common():
            terminalreporter.write_line(f"  {rule}: {count}")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist (`-n 2 --dist loadgroup`, the default in pyproject.toml) the browser tests and the video
    calls are one unit of work, run on one worker one after the other: one demo server and one Chromium for
    tests/e2e, and no two of them (Chromium with a fake camera, a WebRTC call that must see frames within a
    deadline) competing for the two cores. The other worker meanwhile runs the rest; every other test is a unit
    of its own. (pytest-xdist's own `xdist_group` marks cannot do this here: 3.8.0 renames a test to put it in a
    group through an attribute pytest 9 no longer reads.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class MediaOnOneWorker(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "media" if nodeid.startswith(MEDIA_TESTS) else str(super()._split_scope(nodeid))

    return MediaOnOneWorker(config, log)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    assert (SHARED / "REQUIREMENTS.md").exists(), f"../shared not found at {SHARED} (set HOSPITAL_SHARED_DIR)"
    return SHARED


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id at its lowest cost in the test process: at the production cost (t=3, 64 MiB, 4 lanes) every demo
    seed, login and registration hashed for 0.1-0.3 s, minutes over the suite. The same code hashes and verifies;
    no test reads the cost parameters. Servers the tests start in subprocesses (tests/demo_server.py) keep them."""
    from argon2 import PasswordHasher

    from hospital.identity import passwords, service

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", cheap)
        patch.setattr(passwords, "DUMMY_HASH", cheap.hash("no such user: constant-time filler"))
        patch.setattr(service, "DUMMY_HASH", passwords.DUMMY_HASH)
        yield


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "hospital.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


def _admin(sql: str) -> None:
    """Run one statement on the server's admin database, outside any running event loop."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(asyncio.run, _admin_async(sql)).result()


async def _admin_async(sql: str) -> None:
    import asyncpg

    dsn = POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"hospital_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # fail loudly: CI must run on PostgreSQL
        pytest.fail(f"PostgreSQL is required for the integration suite and is unreachable at "
                    f"{POSTGRES_ADMIN_URL}: {exc!r}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    yield url
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The tables whose files are not empty: written to since they were created or last emptied.
_WRITTEN_TABLES = """
SELECT coalesce(array_agg(relname::text), '{}') FROM pg_class
WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relname <> 'alembic_version'
  AND pg_relation_size(oid) > 0
"""


async def _empty_postgres(url: str) -> None:
    """Every table as fresh as after the migrations, and the sequences restarted, as TRUNCATE of every table does,
    but in a few tens of milliseconds instead of 0.4-0.8 s (TRUNCATE gives each of the ~30 tables and their indexes
    new files). The tables written to lose their rows with DELETE (triggers and foreign-key checks switched off for
    the transaction); VACUUM then truncates their files to nothing, so rows come back in the order they are
    written, as from a fresh table (tests read without ORDER BY). A table VACUUM could not shrink is truncated."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=10)
    try:
        written: list[str] = await conn.fetchval(_WRITTEN_TABLES)
        if written:
            try:
                async with conn.transaction():
                    await conn.execute("SET LOCAL session_replication_role = replica")
                    for table in written:
                        await conn.execute(f'DELETE FROM "{table}"')
                await conn.execute("VACUUM " + ", ".join(f'"{t}"' for t in written))
            except asyncpg.InsufficientPrivilegeError:  # not a superuser (HOSPITAL_TEST_POSTGRES_URL): TRUNCATE below
                pass
            left: list[str] = await conn.fetchval(_WRITTEN_TABLES)
            if left:  # rows another open transaction could still see, which VACUUM keeps
                await conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in left) + " CASCADE")
        for (sequence,) in await conn.fetch("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"):
            await conn.execute(f'ALTER SEQUENCE "{sequence}" RESTART')
    finally:
        await conn.close()


@pytest.fixture(params=DATABASES)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "hospital.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    await _empty_postgres(url)
    return url


class FakeClock:
    """A clock tests can move; services read time only through `ctx.now()`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path / "data", database_url=db_url, login_rate_per_minute=1000)


@pytest.fixture(scope="session")
def face_pool() -> RememberingFacePool:
    """One in-process pool for the whole run: the real engine, each photo/template pair computed once."""
    return RememberingFacePool()


@pytest.fixture
async def ctx(settings: Settings, clock: FakeClock, face_pool: RememberingFacePool) -> HospitalContext:
    context = wire(build_context(settings))
    context.clock = clock
    await face_pool.start()
    context.faces = face_pool
    return context


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """The test's own session, beside the app's. On SQLite it opens plain (deferred) transactions, so a test that
    reads does not hold the write lock the app needs; a test that writes (tampering) commits at once."""
    engine = create_engine(settings.resolved_database_url, immediate=False)
    async with session_factory(engine)() as s:
        yield s
    await engine.dispose()


@pytest.fixture
async def client(settings: Settings, ctx: HospitalContext) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    app = create_app(settings, ctx)
    async with AsyncTestClient(app=app) as test_client:
        # The suite reads problem details as a tool does, in English (the API's default is Chinese, issue 14);
        # tests of the language choice send their own Accept-Language.
        test_client.headers["Accept-Language"] = "en"
        yield test_client


@pytest.fixture
async def demo(session: AsyncSession, ctx: HospitalContext) -> None:
    """The demo hospital: licence in force, departments, admin, doctor, pharmacist, one patient."""
    from hospital.demo import seed_demo

    assert await seed_demo(session, ctx)
