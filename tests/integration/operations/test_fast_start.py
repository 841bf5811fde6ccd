"""A fresh start answers `/health` before the slow parts are done: the demo is seeded in the background and the
face pool loads dlib in its workers meanwhile; `/ready` says which is still under way (bench/demo_start.py
measures the time to /health)."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest
from argon2 import PasswordHasher, extract_parameters
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from hospital import demo as demo_module
from hospital.app import create_app
from hospital.biometrics.pool import FacePool
from hospital.biometrics.settings import FaceSettings
from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.identity import passwords
from hospital.institution.service import current_licence


def test_the_written_out_dummy_hash_has_the_hashers_cost() -> None:
    """A user name that does not exist is verified against DUMMY_HASH: at a lower cost it would answer faster and
    tell names apart. (A fresh copy of the module: the test session runs a cheap hasher.)"""
    spec = importlib.util.spec_from_file_location("fresh_passwords", passwords.__file__)
    assert spec is not None and spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert extract_parameters(fresh.DUMMY_HASH) == extract_parameters(fresh.hash_password("x"))
    assert extract_parameters(fresh.DUMMY_HASH) == extract_parameters(PasswordHasher().hash("x"))


async def test_health_answers_while_the_demo_seeds_and_ready_waits_for_it(
    settings: Settings, ctx: HospitalContext, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()
    real_seed = demo_module.seed_demo

    async def slow_seed(s: AsyncSession, c: HospitalContext) -> bool:
        await release.wait()
        return await real_seed(s, c)

    monkeypatch.setattr(demo_module, "seed_demo", slow_seed)
    app = create_app(settings, ctx, seed_demo=True)
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        waiting = await client.get("/ready")
        assert waiting.status_code == 503 and waiting.json()["checks"]["demo"] == "seeding"
        assert await current_licence(session) is None
        release.set()
        for _ in range(300):
            ready = await client.get("/ready")
            if ready.json()["checks"]["demo"] != "seeding":
                break
            await asyncio.sleep(0.1)
        assert ready.status_code == 200, ready.json()
    await session.rollback()
    assert await current_licence(session) is not None


async def test_a_failed_seed_keeps_the_hospital_not_ready(
    settings: Settings, ctx: HospitalContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_seed(s: AsyncSession, c: HospitalContext) -> bool:
        raise RuntimeError("no faces directory")

    monkeypatch.setattr(demo_module, "seed_demo", broken_seed)
    async with AsyncTestClient(app=create_app(settings, ctx, seed_demo=True)) as client:
        for _ in range(100):
            ready = await client.get("/ready")
            if ready.json()["checks"]["demo"] != "seeding":
                break
            await asyncio.sleep(0.05)
        assert ready.status_code == 503
        assert ready.json()["checks"]["demo"] == "failed: RuntimeError: no faces directory"


async def test_a_pool_started_in_the_background_queues_work_behind_its_warm_up(shared_dir: Path) -> None:
    pool = FacePool(FaceSettings(workers=1))
    pool.start_in_background()
    try:
        assert not pool.warm  # the worker is still loading dlib: the app serves meanwhile
        template = await pool.encode_enrolment((shared_dir / "faces" / "obama.jpg").read_bytes(), "image/jpeg")
        assert pool.warm
        verdict = await pool.verify(template.to_bytes(), (shared_dir / "faces" / "obama2.jpg").read_bytes(),
                                    "image/jpeg")
        assert verdict.match
    finally:
        await pool.close()
    assert not pool.warm
