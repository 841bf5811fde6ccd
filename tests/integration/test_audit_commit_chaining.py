"""AUD-01: audit entries are chained when their transaction commits, so the chain lock is not held while a use case
runs; concurrent transactions still make one chain, and a rolled-back transaction leaves nothing in it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import select

from hospital.config import Settings
from hospital.core.audit import Actor, AuditEntry, append_audit, verify_chain
from hospital.core.errors import ContractViolation
from hospital.core.outbox import OutboxEvent
from hospital.db import create_engine, session_factory
from tests.conftest import DATABASES

pytestmark = pytest.mark.requirement("AUD-01")

ACTOR = Actor.system("test")


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.resolved_database_url)
    yield session_factory(engine)
    await engine.dispose()


async def chain(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with sessions() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars().all()  # type: ignore[arg-type]
        checked, broken = await verify_chain(session)
        assert (checked, broken) == (len(entries), None)
        return list(entries)


async def note(session: AsyncSession, what: str) -> AuditEntry:
    return await append_audit(session, ACTOR, "test.noted", subject_type="test", subject_id=what)


async def test_a_transaction_s_entries_are_chained_in_order_when_it_commits(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        first, second = await note(session, "a"), await note(session, "b")
        assert first.seq is None  # nothing is in the chain before the commit
        await session.commit()
    entries = await chain(sessions)
    assert [e.subject_id for e in entries[-2:]] == ["a", "b"]
    assert (first.seq, first.entry_hash, second.prev_hash) == (entries[-2].seq, entries[-2].entry_hash,
                                                               entries[-2].entry_hash)
    assert all(earlier.at <= later.at for earlier, later in itertools.pairwise(entries))


async def test_a_rolled_back_transaction_leaves_no_entry_and_no_gap(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await note(session, "kept-1")
        await session.commit()
        await note(session, "rolled-back")
        session.add(OutboxEvent(event_type="test.event", subject_type="test", subject_id="x",
                                 idempotency_key="test.event:x"))
        await session.flush()  # the use case's own writes reach the database; the entry waits for the commit
        await session.rollback()
        await note(session, "kept-2")  # the same session, a new transaction: the rolled-back entry is not chained
        await session.commit()
    async with sessions() as session:
        await note(session, "closed-unfinished")  # a session closed without committing chains nothing either
    entries = await chain(sessions)
    assert [e.subject_id for e in entries] == ["kept-1", "kept-2"]
    assert entries[1].seq == entries[0].seq + 1  # type: ignore[operator]
    assert entries[1].prev_hash == entries[0].entry_hash


async def test_a_session_that_does_not_chain_at_commit_is_refused(settings: Settings) -> None:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with AsyncSession(engine) as session:
            with pytest.raises(ContractViolation, match="session_factory"):
                await note(session, "lost")
    finally:
        await engine.dispose()


# SQLite serialises whole write transactions (BEGIN IMMEDIATE): only PostgreSQL lets two run at once.
@pytest.mark.parametrize("db_url", [d for d in DATABASES if d == "postgresql"], indirect=True)
async def test_concurrent_transactions_do_not_wait_for_each_other_until_commit(
        sessions: async_sessionmaker[AsyncSession], db_url: str) -> None:
    async with sessions() as slow, sessions() as quick:
        await note(slow, "slow")
        await slow.execute(sa.select(sa.func.count()).select_from(OutboxEvent))  # still working, chain lock not held

        async def quick_work() -> None:
            await note(quick, "quick")
            await quick.commit()

        await asyncio.wait_for(quick_work(), 60)  # would wait for `slow` if it held the lock since its append
        await slow.commit()

    async def one(i: int) -> None:
        async with sessions() as session:
            for j in range(3):
                await note(session, f"{i}.{j}")
                await session.execute(sa.select(sa.func.count()).select_from(AuditEntry))
                await session.commit()

    await asyncio.gather(*(one(i) for i in range(6)))
    entries = await chain(sessions)
    assert [e.subject_id for e in entries[:2]] == ["quick", "slow"]
    assert len(entries) == 2 + 6 * 3
    assert [e.seq for e in entries] == list(range(entries[0].seq, entries[0].seq + len(entries)))  # type: ignore[arg-type, operator]
