"""AUD-01: a chain that cannot be cut or rewritten unnoticed. `hospital audit verify` checks the chain against the
latest signed checkpoint (a file outside the database) and names a cut tail or a changed entry; on PostgreSQL the
application's own connection cannot UPDATE, DELETE or TRUNCATE the trail, and only entries past the trail's
retention leave it, through the one audited purge."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.core.audit import GENESIS_HASH, Actor, AuditEntry, entry_hash, purge_expired, verify_chain
from hospital.core.audit_anchor import checkpoint_store, take_checkpoint
from hospital.db import create_engine
from tests.conftest import DATABASES, REPO
from tests.helpers import login_as, past_the_audit_trigger


def hospital(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOSPITAL_DATABASE_URL": settings.resolved_database_url,
           "HOSPITAL_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "hospital", *args], env=env, capture_output=True, text=True,
                          timeout=120)


async def seqs(session: AsyncSession) -> list[int]:
    rows = (await session.execute(select(AuditEntry.seq).order_by(AuditEntry.seq))).scalars().all()  # type: ignore[arg-type]
    await session.rollback()
    return [int(s) for s in rows if s is not None]


async def test_cutting_the_last_three_entries_is_named_by_verify(
    client: AsyncTestClient[Any], session: AsyncSession, settings: Settings, demo: None
) -> None:
    await login_as(client, "patient")
    checkpointed = hospital(settings, "audit", "checkpoint")
    assert checkpointed.returncode == 0, checkpointed.stderr
    assert (settings.data_dir / "blobs" / "audit-checkpoints").is_dir()
    intact = hospital(settings, "audit", "verify")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    chain = await seqs(session)
    await past_the_audit_trigger(session)  # an attacker with the database server's own rights
    await session.execute(sa.delete(AuditEntry).where(AuditEntry.seq.in_(chain[-3:])))  # type: ignore[union-attr]
    await session.commit()
    assert await verify_chain(session) == (len(chain) - 3, None)  # the chain alone cannot see it
    cut = hospital(settings, "audit", "verify")
    assert cut.returncode == 1
    assert f"entries {chain[-3]} to {chain[-1]} are missing" in cut.stderr, cut.stderr


async def test_an_updated_entry_is_named_even_with_its_hash_recomputed(
    client: AsyncTestClient[Any], session: AsyncSession, settings: Settings, demo: None
) -> None:
    await login_as(client, "patient")
    assert hospital(settings, "audit", "checkpoint").returncode == 0
    chain = await seqs(session)
    role = (await session.execute(select(AuditEntry.actor_role).where(AuditEntry.seq == chain[2]))).scalar_one()
    # An edit in the middle breaks the links after it; the walk names it.
    await past_the_audit_trigger(session)
    await session.execute(sa.update(AuditEntry).where(AuditEntry.seq == chain[2]).values(actor_role="forged"))  # type: ignore[arg-type]
    await session.commit()
    edited = hospital(settings, "audit", "verify")
    assert edited.returncode == 1 and f"broken at entry {chain[2]}" in edited.stderr, edited.stderr
    await past_the_audit_trigger(session)
    await session.execute(sa.update(AuditEntry).where(AuditEntry.seq == chain[2]).values(actor_role=role))  # type: ignore[arg-type]
    await session.commit()
    # The head edited with its hash recomputed (SHA-256 needs no key) leaves a chain that links: the checkpoint
    # names it.
    head = (await session.execute(select(AuditEntry).where(AuditEntry.seq == chain[-1]))).scalar_one()
    head.detail = {"forged": True}
    forged = entry_hash(head)
    await session.rollback()
    await past_the_audit_trigger(session)
    await session.execute(sa.update(AuditEntry).where(AuditEntry.seq == chain[-1])  # type: ignore[arg-type]
                          .values(detail={"forged": True}, entry_hash=forged))
    await session.commit()
    assert (await verify_chain(session))[1] is None
    changed = hospital(settings, "audit", "verify")
    assert changed.returncode == 1
    assert f"entry {chain[-1]} is not the entry the checkpoint" in changed.stderr, changed.stderr


async def test_a_forged_checkpoint_is_refused(client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext,
                                              settings: Settings, demo: None) -> None:
    store = checkpoint_store(settings.data_dir)
    checkpoint = await take_checkpoint(session, store, ctx.now())
    assert checkpoint is not None
    [path] = list(store.directory.glob("*.json"))
    path.write_text(path.read_text().replace(f'"head_seq": {checkpoint.head_seq}', f'"head_seq": {checkpoint.head_seq - 3}'))
    with pytest.raises(ValueError, match="not signed"):
        store.latest()
    refused = hospital(settings, "audit", "verify")
    assert refused.returncode == 1 and "not signed by the hospital's audit key" in refused.stderr, refused.stderr


async def test_the_security_scan_checkpoints_the_chain_and_finds_a_cut_tail(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, settings: Settings, demo: None
) -> None:
    from hospital.security.detection.service import scan

    await login_as(client, "patient")
    first = await scan(session, ctx, Actor.system("security-scan"))
    assert first.chain_breaks == [] and checkpoint_store(settings.data_dir).latest() is not None
    chain = await seqs(session)
    await past_the_audit_trigger(session)
    await session.execute(sa.delete(AuditEntry).where(AuditEntry.seq.in_(chain[-3:])))  # type: ignore[union-attr]
    await session.commit()
    found = await scan(session, ctx, Actor.system("security-scan"))
    assert [b["seq"] for b in found.chain_breaks] == [chain[-3]] and len(found.opened) == 1, found.as_dict()


# PostgreSQL's append-only trigger: these run on PostgreSQL only (SQLite has no roles; the checkpoints above are
# what protects it).
postgres_only = pytest.mark.parametrize("db_url", [d for d in DATABASES if d == "postgresql"], indirect=True)


@postgres_only
async def test_on_postgresql_the_apps_own_connection_cannot_change_the_trail(
    client: AsyncTestClient[Any], settings: Settings, demo: None
) -> None:
    engine = create_engine(settings.resolved_database_url)  # the connection the application uses
    try:
        for statement in ("UPDATE audit_entry SET actor_role = 'admin'", "DELETE FROM audit_entry",
                          "TRUNCATE audit_entry",
                          # setting the purge's variable by hand removes nothing younger than the retention
                          "SELECT set_config('hospital.audit_purge_before', '2999-01-01', true); "
                          "DELETE FROM audit_entry"):
            async with engine.connect() as connection:
                with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                    for part in statement.split("; "):
                        await connection.execute(sa.text(part))
            async with engine.connect() as connection:
                assert (await connection.execute(sa.text("SELECT count(*) FROM audit_entry"))).scalar_one() > 0
    finally:
        await engine.dispose()


@postgres_only
async def test_on_postgresql_only_expired_entries_leave_through_the_audited_purge(
    session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    # Set-up as the database's owner: the first three entries backdated 16 years, the chain re-hashed.
    await past_the_audit_trigger(session)
    entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars().all()  # type: ignore[arg-type]
    previous = GENESIS_HASH
    for index, entry in enumerate(entries):
        if index < 3:
            entry.at = (ctx.now() - timedelta(days=16 * 366)).astimezone(UTC)
        entry.prev_hash = previous
        entry.entry_hash = entry_hash(entry)
        previous = entry.entry_hash
    total = len(entries)
    await session.commit()
    assert (await verify_chain(session))[1] is None
    removed = await purge_expired(session, Actor.system("retention"), ctx.now())
    await session.commit()
    assert removed == 3
    remaining = await seqs(session)
    assert len(remaining) == total - 3 + 1  # the purge's own entry
    checked, broken = await verify_chain(session)
    assert broken is None and checked == total - 2
    purged = (await session.execute(select(AuditEntry).where(AuditEntry.action == "audit.purged"))).scalar_one()
    assert purged.detail["entries"] == 3
