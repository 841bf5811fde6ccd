"""Media workers and the placement of calls on them (issue 22; docs/operations.md, Replicas).

A `hospital media-worker` registers itself (`renew_lease`: id, internal URL, capacity, `lease_until`) and renews
its lease every heartbeat. When a call is reached through an app replica, `place_call` answers the worker that
holds it: the one recorded in `call_placement` while that worker's lease runs, else the live worker with the
fewest open calls (recorded and audited in the same transaction). A worker whose lease lapsed lost its calls'
media, not their state (the visit, the pause, the stored recordings are in the database): the next request of
the call places it on a live worker, where the pages rejoin as after a network cut.

One use case, one transaction; the only place that writes these tables.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.core.audit import Actor, append_audit
from hospital.core.errors import NotFound, ServiceUnavailable
from hospital.identity.tokens import Principal
from hospital.video.models import CallPlacement, MediaWorker
from hospital.video.rules import CALL_STATES
from hospital.visits.booking.models import Visit

__all__ = ["Placed", "live_workers", "place_call", "renew_lease", "retire_worker"]


@dataclass(frozen=True, slots=True)
class Placed:
    """Where a call's signalling goes: the worker's id and internal URL."""

    worker_id: str
    url: str


async def renew_lease(session: AsyncSession, worker_id: str, url: str, capacity: int, *, now: datetime,
                      lease_s: float) -> None:
    """Register the worker, or renew its lease (its heartbeat). Not audited: no patient data, no visit's state
    (a placement, which is, is audited)."""
    until = now + timedelta(seconds=lease_s)
    worker = await session.get(MediaWorker, worker_id, with_for_update=True)
    if worker is None:
        session.add(MediaWorker(id=worker_id, url=url, capacity=capacity, started_at=now, lease_until=until))
        try:
            await session.commit()
        except IntegrityError:  # another process of the same name registered at the same moment: renew it
            await session.rollback()
            await renew_lease(session, worker_id, url, capacity, now=now, lease_s=lease_s)
        return
    if worker.url != url:  # a restart under the same name, elsewhere: it starts afresh
        worker.started_at = now
    worker.url, worker.capacity, worker.lease_until = url, capacity, until
    await session.commit()


async def retire_worker(session: AsyncSession, worker_id: str, *, now: datetime) -> None:
    """A worker shutting down: its lease ends now, so its calls are placed anew at once."""
    await session.execute(update(MediaWorker).where(col(MediaWorker.id) == worker_id).values(lease_until=now))
    await session.commit()


async def live_workers(session: AsyncSession, *, now: datetime) -> list[Placed]:
    """Workers whose lease runs (id and URL), by name. Reads only."""
    workers = [Placed(worker_id, url) for worker_id, url in (await session.execute(
        select(MediaWorker.id, MediaWorker.url).where(col(MediaWorker.lease_until) > now)
        .order_by(col(MediaWorker.id)))).all()]
    await session.rollback()
    return workers


async def place_call(session: AsyncSession, actor: Actor, principal: Principal, visit_id: uuid.UUID, *,
                     now: datetime) -> Placed:
    """The worker of the visit's call, placing it if it has none alive. Only the visit's patient or doctor
    reaches a call (anyone else: 404, as the call's own endpoints answer)."""
    visit = (await session.execute(select(Visit.patient_user_id, Visit.doctor_user_id, Visit.state)
                                   .where(Visit.id == visit_id))).first()
    if visit is None or principal.user_id not in (visit.patient_user_id, visit.doctor_user_id):
        await session.rollback()
        raise NotFound(f"no video consultation for visit {visit_id}")
    placement = await session.get(CallPlacement, visit_id, with_for_update=True)
    if placement is not None:
        holder = await session.get(MediaWorker, placement.worker_id)
        if holder is not None and holder.lease_until > now:
            held = Placed(holder.id, holder.url)
            await session.rollback()
            return held
    least = await _least_loaded(session, now)
    chosen = Placed(least.id, least.url)  # read before the commit expires the row
    if visit.state not in CALL_STATES:  # an ended (or not yet accepted) visit: any worker answers its status
        await session.rollback()
        return chosen
    previous = placement.worker_id if placement is not None else None
    if placement is None:
        session.add(CallPlacement(visit_id=visit_id, worker_id=chosen.worker_id, placed_at=now))
    else:
        placement.worker_id, placement.placed_at = chosen.worker_id, now
        placement.placements += 1
    await append_audit(session, actor, "video.call_placed", subject_type="visit", subject_id=visit_id,
                       detail={"worker_id": chosen.worker_id, "previous_worker_id": previous})
    try:
        await session.commit()
    except IntegrityError:  # another replica placed the call at the same moment: theirs holds
        await session.rollback()
        return await place_call(session, actor, principal, visit_id, now=now)
    return chosen


async def _least_loaded(session: AsyncSession, now: datetime) -> MediaWorker:
    """The live worker with the fewest open calls under its capacity (its name breaks ties)."""
    workers = (await session.execute(select(MediaWorker).where(col(MediaWorker.lease_until) > now)
                                     .order_by(col(MediaWorker.id)))).scalars().all()
    load = dict((await session.execute(
        select(CallPlacement.worker_id, func.count()).join(Visit, col(Visit.id) == col(CallPlacement.visit_id))
        .where(col(Visit.state).in_(CALL_STATES)).group_by(col(CallPlacement.worker_id)))).all())
    free = [w for w in workers if load.get(w.id, 0) < w.capacity]
    if not free:
        await session.rollback()
        raise ServiceUnavailable("no media worker can take the call now; try again in a moment",
                                 retry_after=5)
    return min(free, key=lambda w: (load.get(w.id, 0), w.id))
