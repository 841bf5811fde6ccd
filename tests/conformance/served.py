"""The demo hospital served in this process (SQLite in a temporary directory), for the scenario suite: the
reference HTTP driver talks to it through litestar's TestClient (an httpx.Client), and a rule swapped in this
process (hospital.conformance.mutation) is swapped in the served app too. Like `hospital demo`, it reports to its
in-process supervision simulator, mounted at /demo/platform.

Built once per process where it can be: the migrated database is a template copied for each run, and the face
pool (the real engine, results remembered) outlives the runs `hospital conformance prove` makes in-process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from connectors.supervision.demo import DemoPlatform
from hospital.app import create_app
from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.db import create_engine, migrate, session_factory
from hospital.demo import seed_demo
from hospital.wiring import wired_context
from tests.faces import RememberingFacePool

__all__ = ["served_demo"]

_CACHE: dict[str, object] = {}


def _template() -> Path:
    if "template" not in _CACHE:
        path = Path(tempfile.mkdtemp(prefix="conformance-template-")) / "hospital.db"
        migrate(f"sqlite+aiosqlite:///{path}")
        _CACHE["template"] = path
    return _CACHE["template"]  # type: ignore[return-value]


def _pool() -> RememberingFacePool:
    if "pool" not in _CACHE:
        _CACHE["pool"] = RememberingFacePool()
    return _CACHE["pool"]  # type: ignore[return-value]


async def _seed(ctx: HospitalContext) -> None:
    assert ctx.faces is not None
    await ctx.faces.start()
    engine = create_engine(ctx.settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            assert await seed_demo(session, ctx)
    finally:
        await engine.dispose()


@contextmanager
def served_demo(data_dir: Path, **overrides: Any) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """`overrides`: Settings fields (face_single_image=False: a hospital that takes only the liveness challenge)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    database = data_dir / "hospital.db"
    shutil.copy(_template(), database)
    settings = Settings(environment="test", data_dir=data_dir, database_url=f"sqlite+aiosqlite:///{database}",
                        login_rate_per_minute=100_000, **overrides)
    ctx = wired_context(settings)
    ctx.faces = _pool()
    asyncio.run(_seed(ctx))
    # The demo's own supervision platform, as `hospital demo` runs it: what the scenarios say the platform must
    # receive is read back from its /demo/platform/sim/records.
    # Its connector sets an event waiting for an earlier record aside for 0.02 s (not the 0.1 s default, ×10 for a
    # required record), so a prescription's chain reaches the simulator in well under a second per scenario.
    platform = DemoPlatform(settings)
    platform.settings = dataclasses.replace(platform.settings, hold_s=0.02)
    app = create_app(settings, ctx, demo_platform=platform)
    with TestClient(app=app, base_url="http://conformance.test") as client:
        yield client
