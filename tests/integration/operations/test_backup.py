"""`hospital backup` → `hospital restore` into a fresh database and data directory: the audit chain verifies, a
signed prescription's export verifies against the restored CA, the blobs open, and the outbox resumes without
sending anything twice (on SQLite and PostgreSQL). A damaged archive, another field key or a target that is not
empty are refused before anything is written."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
import tarfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from connectors.supervision.runner import open_dispatcher
from connectors.supervision.settings import ConnectorSettings
from hospital.app import create_app
from hospital.cli import main
from hospital.config import Settings
from hospital.context import HospitalContext, build_context
from hospital.db import is_sqlite
from hospital.signing.export import bundle_to_json
from hospital.wiring import wire
from tests.conftest import POSTGRES_ADMIN_URL, FakeClock, _admin_async
from tests.faces import RememberingFacePool
from tests.helpers import login_as
from tests.integration.connector.conftest import Sim, deliver_all
from tests.integration.connector.real_day import a_whole_visit
from tests.integration.prescriptions.conftest import reviewing_pharmacist


async def hospital(settings: Settings, *args: str) -> Result:
    """The `hospital` command as an operator runs it (in a thread: it runs its own event loop)."""
    env = {"HOSPITAL_DATABASE_URL": settings.resolved_database_url, "HOSPITAL_DATA_DIR": str(settings.data_dir),
           "HOSPITAL_FIELD_KEY": settings.field_key_b64}
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


@pytest.fixture
async def fresh(settings: Settings, tmp_path: Path) -> AsyncIterator[Settings]:
    """An empty database of the same engine (a new file, or a new PostgreSQL database) and an empty data dir."""
    data = tmp_path / "restored"
    if is_sqlite(settings.resolved_database_url):
        yield Settings(environment="test", data_dir=data, database_url=f"sqlite+aiosqlite:///{data / 'hospital.db'}",
                       login_rate_per_minute=1000)
        return
    name = f"hospital_restore_{uuid.uuid4().hex[:12]}"
    await _admin_async(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield Settings(environment="test", data_dir=data, database_url=url, login_rate_per_minute=1000)
    finally:
        await _admin_async(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def wired(settings: Settings, clock: FakeClock, faces: RememberingFacePool) -> HospitalContext:
    context = wire(build_context(settings))
    context.clock, context.faces = clock, faces
    return context


async def test_backup_then_restore_into_a_fresh_hospital_loses_nothing_and_sends_nothing_twice(
    client: AsyncTestClient[Any], ctx: HospitalContext, settings: Settings, fresh: Settings, demo: None,
    sim: Sim, connector_settings: ConnectorSettings, clock: FakeClock, face_pool: RememberingFacePool,
    tmp_path: Path,
) -> None:
    # A whole visit with a signed, reviewed prescription, shipped; its export; everything delivered.
    day = await a_whole_visit(client, clock)
    ca_pem = (await client.get("/.well-known/hospital-ca.pem")).text
    patient = await login_as(client, "patient")
    document = (await client.get(f"/api/prior-diagnoses/{day.prior['prior_diagnosis_id']}/document",
                                 headers=patient)).content
    assert document.startswith(b"%PDF")
    async with open_dispatcher(settings, connector_settings, http=sim.http, name="before") as dispatcher:
        await deliver_all(dispatcher)
    delivered = await sim.records()
    assert delivered

    archive = tmp_path / "backups" / "hospital.tar"
    taken = await hospital(settings, "backup", str(archive))
    assert taken.exit_code == 0, taken.stderr
    summary = json.loads(taken.stdout)
    assert summary["missing_blobs"] == [] and summary["blobs"] >= 3 and summary["outbox_undelivered"] == 0
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[-1] == "manifest.json" and names[0].startswith("database.")

    restored = await hospital(fresh, "restore", str(archive))
    assert restored.exit_code == 0, restored.stderr
    verified = await hospital(fresh, "audit", "verify")
    assert verified.exit_code == 0, verified.stdout
    source_entries = json.loads((await hospital(settings, "audit", "verify")).stdout)["entries"]
    assert json.loads(verified.stdout)["entries"] == source_entries + 1  # the restore is audited in the chain

    # The restored hospital: the same CA, the export verifies offline, the blobs open under the key.
    (tmp_path / "rx.json").write_bytes(bundle_to_json(day.export))
    (tmp_path / "ca.pem").write_text(ca_pem)
    check = await hospital(fresh, "rx", "verify", str(tmp_path / "rx.json"), "--ca", str(tmp_path / "ca.pem"),
                           "--at", ctx.now().isoformat())
    assert check.exit_code == 0 and json.loads(check.stdout)["ok"] is True, check.stdout
    restored_ctx = await wired(fresh, clock, face_pool)
    async with AsyncTestClient(app=create_app(fresh, restored_ctx)) as again:
        assert (await again.get("/.well-known/hospital-ca.pem")).text == ca_pem
        patient_again = await login_as(again, "patient")  # tokens are signed with the data dir's key: log in again
        assert (await again.get(f"/api/prior-diagnoses/{day.prior['prior_diagnosis_id']}/document",
                                headers=patient_again)).content == document
        # The outbox resumes: nothing delivered before the backup is sent again ...
        async with open_dispatcher(fresh, connector_settings, http=sim.http, name="after") as dispatcher:
            await deliver_all(dispatcher)
        assert await sim.records() == delivered
        # ... and what happens after the restore is delivered, once.
        clock.advance(minutes=10)  # a later state of the circulation record has a later version (its time)
        pharmacist = await reviewing_pharmacist(again)
        arrived = await again.post(f"/api/dispensings/{day.dispensing_id}/delivery", headers=pharmacist,
                                   json={"status": "delivered"})
        assert arrived.status_code == 200, arrived.text
        async with open_dispatcher(fresh, connector_settings, http=sim.http, name="after") as dispatcher:
            await deliver_all(dispatcher)
    after = await sim.records()
    assert after[:len(delivered)] == delivered and len(after) > len(delivered)
    # The platform counts a version received again: none of the records after the restore was.
    assert [r for r in after[len(delivered):] if r["duplicates"]] == []


async def test_a_blob_gone_from_disk_is_listed_missing_and_a_damaged_archive_is_refused(
    settings: Settings, fresh: Settings, demo: None, tmp_path: Path
) -> None:
    blobs = sorted(p for p in (settings.data_dir / "blobs").rglob("*") if p.is_file())
    gone = blobs[0]
    gone.unlink()
    archive = tmp_path / "hospital.tar"
    taken = await hospital(settings, "backup", str(archive))
    assert taken.exit_code == 0 and "were not on disk" in taken.stderr
    assert json.loads(taken.stdout)["missing_blobs"] == [gone.parent.name + gone.name]

    # One byte changed in a blob member: refused, the target left empty.
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("blobs/") and member.name.endswith(blobs[1].name):
                data = bytes([data[0] ^ 1]) + data[1:]
            target.addfile(member, io.BytesIO(data))
    refused = await hospital(fresh, "restore", str(damaged))
    assert refused.exit_code == 1 and "its bytes are not those of the backup" in refused.stderr
    assert not (fresh.data_dir / "blobs").exists()
    assert not is_sqlite(fresh.resolved_database_url) or not (fresh.data_dir / "hospital.db").exists()

    # Another field key: the sealed data would not open.
    other_key = dataclasses.replace(fresh, field_key_b64=base64.b64encode(b"k" * 32).decode())
    refused = await hospital(other_key, "restore", str(archive))
    assert refused.exit_code == 1 and "HOSPITAL_FIELD_KEY is not the key of the backup" in refused.stderr

    # A target that is not empty: the source itself.
    refused = await hospital(settings, "restore", str(archive))
    assert refused.exit_code == 1 and "not empty" in refused.stderr
