"""AUD-01: the audit chain is written with each change and any edit is found by `hospital audit verify`."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry, verify_chain
from hospital.core.outbox import OutboxEvent
from hospital.institution.service import require_licence_in_force
from tests.conftest import REPO, FakeClock
from tests.helpers import past_the_audit_trigger

pytestmark = pytest.mark.requirement("AUD-01")


async def test_every_change_is_chained_and_the_chain_verifies(client: AsyncTestClient[Any], session: AsyncSession,
                                                              demo: None) -> None:
    await client.post("/api/auth/login", json={"username": "admin", "password": "admin-demo-2026"})
    entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars().all()  # type: ignore[arg-type]
    actions = [e.action for e in entries]
    assert "patient.registered" in actions and "login.succeeded" in actions
    assert all(later.prev_hash == earlier.entry_hash for earlier, later in itertools.pairwise(entries))
    checked, broken = await verify_chain(session)
    assert (checked, broken) == (len(entries), None)


async def test_one_edited_row_is_named_by_verify(session: AsyncSession, demo: None) -> None:
    target = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq).offset(3).limit(1))).scalar_one()  # type: ignore[arg-type]
    await past_the_audit_trigger(session)
    await session.execute(sa.update(AuditEntry).where(AuditEntry.seq == target.seq).values(actor_role="admin"))  # type: ignore[arg-type]
    await session.commit()
    session.expunge_all()
    _, broken = await verify_chain(session)
    assert broken is not None and broken.seq == target.seq and "edited" in broken.reason


async def test_a_deleted_row_breaks_the_chain_at_the_next_entry(session: AsyncSession, demo: None) -> None:
    rows = (await session.execute(select(AuditEntry.seq).order_by(AuditEntry.seq))).scalars().all()  # type: ignore[arg-type]
    await past_the_audit_trigger(session)
    await session.execute(sa.delete(AuditEntry).where(AuditEntry.seq == rows[2]))  # type: ignore[arg-type]
    await session.commit()
    _, broken = await verify_chain(session)
    assert broken is not None and broken.seq == rows[3]


async def test_the_cli_exits_non_zero_naming_the_first_broken_entry(settings: Settings, session: AsyncSession,
                                                                    demo: None) -> None:
    env = {**os.environ, "HOSPITAL_DATABASE_URL": settings.resolved_database_url, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "hospital", "audit", "verify"]
    intact = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert intact.returncode == 0, intact.stderr
    target = (await session.execute(select(AuditEntry.seq).order_by(AuditEntry.seq).offset(5).limit(1))).scalar_one()  # type: ignore[arg-type]
    await past_the_audit_trigger(session)
    await session.execute(sa.update(AuditEntry).where(AuditEntry.seq == target).values(detail={"forged": True}))  # type: ignore[arg-type]
    await session.commit()
    broken = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1
    assert f"broken at entry {target}" in broken.stderr


async def test_licence_changes_emit_their_outbox_event_in_the_same_transaction(session: AsyncSession, demo: None) -> None:
    events = (await session.execute(select(OutboxEvent.event_type, OutboxEvent.idempotency_key))).all()
    assert ("institution.licence", "institution.licence:PDY0001-310115-DEMO:1") in events
    assert sum(1 for t, _ in events if t == "institution.department") == 6


async def test_clinical_work_is_refused_once_the_licence_expires(session: AsyncSession, ctx: HospitalContext,
                                                                 clock: FakeClock, demo: None) -> None:
    await require_licence_in_force(session, ctx)
    clock.advance(days=365 * 6)
    from hospital.core.errors import ServiceStopped

    try:
        await require_licence_in_force(session, ctx)
    except ServiceStopped as stopped:
        assert stopped.rule_id == "INS-01" and "expired" in stopped.detail
    else:
        raise AssertionError("an expired licence must stop clinical work")
