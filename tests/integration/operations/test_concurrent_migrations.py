"""Replicas that start together on an empty PostgreSQL database each run `hospital serve`'s migrations: one
migrates (an advisory lock in the Alembic environment), the others wait and find the schema at head. Three
`hospital migrate` processes at once on an empty database all succeed."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from asyncio.subprocess import PIPE, STDOUT
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from hospital.db import create_engine, current_revision, head_revision
from tests.conftest import POSTGRES_ADMIN_URL, _admin_async

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_three_replicas_migrating_an_empty_database_at_once_all_start(db_url: str) -> None:
    name = f"hospital_migrate_{uuid.uuid4().hex[:12]}"
    await _admin_async(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        env = {**os.environ, "HOSPITAL_DATABASE_URL": url, "PYTHONPATH": str(REPO)}
        replicas = [await asyncio.create_subprocess_exec(sys.executable, "-m", "hospital", "migrate", cwd=REPO, env=env,
                                                         stdout=PIPE, stderr=STDOUT) for _ in range(3)]
        outputs = await asyncio.gather(*(replica.communicate() for replica in replicas))
        assert [r.returncode for r in replicas] == [0, 0, 0], [out.decode()[-2000:] for out, _ in outputs]
        engine = create_engine(url)
        try:
            assert await current_revision(engine) == head_revision()
        finally:
            await engine.dispose()
    finally:
        await _admin_async(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
