"""Placing calls on media workers (issue 22, hospital/video/placement.py): the live worker with the fewest open
calls, recorded and audited; the same worker while its lease runs; another once it lapsed; never for a stranger."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from call_steps import accepted_video_visit
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, AuditEntry
from hospital.core.errors import NotFound, ServiceUnavailable
from hospital.identity.tokens import Principal
from hospital.video.models import CallPlacement
from hospital.video.placement import live_workers, place_call, renew_lease, retire_worker
from tests.conftest import FakeClock
from tests.helpers import login_as

pytestmark = pytest.mark.asyncio


def principal_of(ctx: HospitalContext, headers: dict[str, str]) -> Principal:
    return ctx.tokens.decode(headers["Authorization"].removeprefix("Bearer "))


async def test_a_call_goes_to_the_least_loaded_live_worker_stays_there_and_moves_when_its_lease_lapses(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, clock: FakeClock, demo: None,
) -> None:
    patient, doctor, visit_id = await accepted_video_visit(client)
    visit = uuid.UUID(visit_id)
    who = principal_of(ctx, patient)
    actor = Actor(who.user_id, who.role)

    with pytest.raises(ServiceUnavailable):  # no worker registered: the page is told to try again
        await place_call(session, actor, who, visit, now=clock())

    await renew_lease(session, "media-b", "http://127.0.0.1:9002", 20, now=clock(), lease_s=15)
    await renew_lease(session, "media-a", "http://127.0.0.1:9001", 20, now=clock(), lease_s=15)
    placed = await place_call(session, actor, who, visit, now=clock())
    assert (placed.worker_id, placed.url) == ("media-a", "http://127.0.0.1:9001")  # equal load: by name

    # The doctor's requests, on any replica, find the same worker while its lease runs (renewed by heartbeats).
    clock.advance(seconds=10)
    await renew_lease(session, "media-a", "http://127.0.0.1:9001", 20, now=clock(), lease_s=15)
    clock.advance(seconds=10)
    again = await place_call(session, actor, principal_of(ctx, doctor), visit, now=clock())
    assert again.worker_id == "media-a"

    # media-a falls silent (killed): once its lease lapsed, the call is placed on media-b, audited again.
    await renew_lease(session, "media-b", "http://127.0.0.1:9002", 20, now=clock(), lease_s=15)
    clock.advance(seconds=6)
    assert [w.worker_id for w in await live_workers(session, now=clock())] == ["media-b"]
    moved = await place_call(session, actor, who, visit, now=clock())
    assert moved.worker_id == "media-b"
    placement = (await session.execute(select(CallPlacement).where(CallPlacement.visit_id == visit))).scalar_one()
    assert (placement.worker_id, placement.placements) == ("media-b", 2)
    audited = (await session.execute(select(AuditEntry.detail).where(
        AuditEntry.action == "video.call_placed", AuditEntry.subject_id == visit_id))).scalars().all()
    assert [(d["worker_id"], d["previous_worker_id"]) for d in audited] == [("media-a", None), ("media-b", "media-a")]

    # A worker that shuts down ends its lease at once; with none left, 503 again.
    await retire_worker(session, "media-b", now=clock())
    with pytest.raises(ServiceUnavailable):
        await place_call(session, actor, who, visit, now=clock())


async def test_a_stranger_places_no_call_and_a_full_worker_takes_no_more(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, clock: FakeClock, demo: None,
) -> None:
    patient, _, visit_id = await accepted_video_visit(client)
    await renew_lease(session, "media-a", "http://127.0.0.1:9001", 0, now=clock(), lease_s=15)
    await renew_lease(session, "media-b", "http://127.0.0.1:9002", 20, now=clock(), lease_s=15)
    pharmacist = principal_of(ctx, await login_as(client, "pharmacist"))
    with pytest.raises(NotFound):
        await place_call(session, Actor(pharmacist.user_id, pharmacist.role), pharmacist, uuid.UUID(visit_id),
                         now=clock())
    assert (await session.execute(select(CallPlacement))).first() is None
    who = principal_of(ctx, patient)
    placed = await place_call(session, Actor(who.user_id, who.role), who, uuid.UUID(visit_id), now=clock())
    assert placed.worker_id == "media-b"  # media-a is full (capacity 0 here): passed over
