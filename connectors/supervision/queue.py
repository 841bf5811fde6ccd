"""The outbox as the dispatcher's queue: route new events, claim due ones under a lease, settle the answers.
All three are written in one transaction per round; new events are read and mapped before it opens.

Claiming (docs/connector.md, "Delivery"): an event is due when it is pending or retrying, routed, its
`next_attempt_at` has come, nobody holds a live lease on it, and no earlier event of the same subject is still
pending or retrying (order per subject). On PostgreSQL the claim takes `FOR UPDATE SKIP LOCKED`, so parallel
dispatchers never claim one event twice; on SQLite every write transaction is IMMEDIATE, which serialises
the claims the same way (one dispatcher is enough there). The lease outlives any send (`lease_s` >
`timeout_s`), so an event is sent again only after its dispatcher died, and the platform de-duplicates by
business ID and version. These state changes are the connector's own, not clinical records: no audit entries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hospital.core.outbox import OutboxEvent, OutboxStatus

__all__ = ["BLOCKING", "REQUIRES_NOTE", "WAITING_NOTE", "Outbox", "Route", "Settlement"]

BLOCKING = (OutboxStatus.PENDING.value, OutboxStatus.RETRYING.value)
# How a set-aside event says what it waits for (`last_error`, shown by `connector status`).
WAITING_NOTE = "waiting for "
REQUIRES_NOTE = "requires "
REQUIRES_HOLD_FACTOR = 10
T = OutboxEvent.__table__  # type: ignore[attr-defined]
# Undelivered, written into the SQL as constants rather than parameters: PostgreSQL then proves the partial index
# `ix_outbox_undelivered_seq` usable in every plan, generic ones too (with parameters it cannot, and a reused plan
# walked the whole outbox in seq order, sent events and all).
UNDELIVERED = T.c.status.in_([sa.literal_column(f"'{status}'") for status in BLOCKING])


@dataclass(frozen=True, slots=True)
class Route:
    """What routing decided for one event."""

    status: str
    method: str | None = None
    business_id: str | None = None
    depends_on: list[dict[str, str]] | None = None
    next_attempt_at: datetime | None = None
    note: str | None = None
    supersedes: bool = False  # fold earlier unsent events of the same method and business ID (T+1 batch)


@dataclass(frozen=True, slots=True)
class Settlement:
    """The outcome of one send, written back under the sender's lease."""

    seq: int
    status: str
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    response: dict[str, Any] | None = None
    sent_at: datetime | None = None


def _earlier(seq: Any, *conditions: Any) -> Any:
    e = T.alias("earlier")
    return sa.exists().where(e.c.seq < seq, *[c(e) for c in conditions])


def _none_earlier(seq: Any, *conditions: Any) -> Any:
    """No earlier event matches, as a scalar subquery: PostgreSQL runs it per candidate row through
    `ix_outbox_subject_seq` and never turns it into an anti-join. A NOT EXISTS was planned as one, and with
    statistics taken while few events waited (any quiet moment) it compared every candidate with the whole backlog
    (100 × 5,000 rows, 100–150 ms a claim), so the lag grew with the backlog. The caller reads the earlier event's
    status through `coalesce` (never null): that keeps the planner off the undelivered index, which it otherwise
    walks back from each row, and on `ix_outbox_subject_seq`."""
    e = T.alias("earlier")
    return sa.select(e.c.seq).where(e.c.seq < seq, *[c(e) for c in conditions]).limit(1).scalar_subquery().is_(None)


class Outbox:
    def __init__(self, factory: async_sessionmaker[AsyncSession], owner: str, *, postgres: bool,
                 routed_from: Callable[[str], frozenset[str] | None] = lambda method: None) -> None:
        self._factory = factory
        self.owner = owner
        self.postgres = postgres
        self._routed_from = routed_from  # the event types that may give a method (None: any), timing.csv

    def _lock(self, query: Any) -> Any:
        return query.with_for_update(skip_locked=True, of=T) if self.postgres else query

    async def unrouted(self, reader: async_sessionmaker[AsyncSession], limit: int) -> list[Any]:
        """Up to `limit` new events (method still unset) in order of commit, read without any lock: they are
        mapped before the write transaction opens, so on SQLite the write lock is never held while mapping."""
        async with reader() as session:
            rows = list((await session.execute(sa.select(T).where(
                T.c.status == OutboxStatus.PENDING.value, T.c.method.is_(None)).order_by(T.c.seq).limit(limit))).all())
            await session.rollback()
            return rows

    async def lock_unrouted(self, session: AsyncSession, limit: int) -> list[Any]:
        """PostgreSQL: up to `limit` new events in order of commit, locked in `session` with SKIP LOCKED, so that
        parallel dispatchers (and lanes) each route their own share instead of all mapping the same rows; the
        locks last until `claim` writes the routes and commits in the same session (docs/connector.md,
        "Delivery")."""
        query = sa.select(T).where(UNDELIVERED, T.c.status == OutboxStatus.PENDING.value, T.c.method.is_(None)
                                   ).order_by(T.c.seq).limit(limit).with_for_update(skip_locked=True)
        return list((await session.execute(query)).all())

    async def _apply_routes(self, session: AsyncSession, rows: Sequence[Any], decisions: dict[int, Route]) -> int:
        """Write the routing of `rows`; a row another dispatcher routed meanwhile is left as it routed it."""
        if not rows:
            return 0
        await session.execute(sa.update(T).where(
            T.c.seq == sa.bindparam("r_seq"), T.c.method.is_(None), T.c.status == OutboxStatus.PENDING.value,
        ).values(
            status=sa.bindparam("r_status"), method=sa.bindparam("r_method"),
            business_id=sa.bindparam("r_business_id"),
            depends_on=sa.bindparam("r_depends_on", type_=T.c.depends_on.type), last_error=sa.bindparam("r_note"),
            next_attempt_at=sa.func.coalesce(sa.bindparam("r_next", type_=T.c.next_attempt_at.type),
                                             T.c.next_attempt_at),
        ), [{"r_seq": row.seq, "r_status": d.status, "r_method": d.method or "", "r_business_id": d.business_id,
             "r_depends_on": d.depends_on, "r_note": d.note, "r_next": d.next_attempt_at}
            for row in rows for d in (decisions[row.seq],)])
        for row in rows:
            route = decisions[row.seq]
            if route.supersedes and route.business_id is not None:
                await session.execute(sa.update(T).where(
                    T.c.seq < row.seq, T.c.method == route.method, T.c.business_id == route.business_id,
                    T.c.status == OutboxStatus.PENDING.value, T.c.next_attempt_at == route.next_attempt_at,
                ).values(status=OutboxStatus.SUPERSEDED.value, last_error=f"folded into event #{row.seq}"))
        return len(rows)

    async def claim(self, now: datetime, limit: int, lease: timedelta, hold: timedelta,
                    settle_first: Sequence[Settlement] = (),
                    routes: tuple[Sequence[Any], dict[int, Route]] = ((), {}),
                    session: AsyncSession | None = None) -> tuple[int, list[Any]]:
        """Lease up to `limit` due events whose dependencies are met; set aside those still waiting. The outcomes
        of the previous round and the routing of new events go in the same transaction (one commit per round),
        in `session` when given (the one that locked the new events), else in a new one.
        Returns how many events were routed, and the leased rows."""
        if session is not None:
            return await self._claim(session, now, limit, lease, hold, settle_first, routes)
        async with self._factory() as own:
            return await self._claim(own, now, limit, lease, hold, settle_first, routes)

    async def _claim(self, session: AsyncSession, now: datetime, limit: int, lease: timedelta, hold: timedelta,
                     settle_first: Sequence[Settlement], routes: tuple[Sequence[Any], dict[int, Route]]
                     ) -> tuple[int, list[Any]]:
        if settle_first:
            await self._settle(session, settle_first)
        routed = await self._apply_routes(session, *routes)
        # An earlier event of the subject that waits for another record (REQUIRES_NOTE) does not hold back a
        # record of another method: the EMR of a visit waits for the visit's revisit record, a later event.
        first_of_subject = _none_earlier(
            T.c.seq, lambda e: e.c.subject_id == T.c.subject_id, lambda e: e.c.subject_type == T.c.subject_type,
            lambda e: sa.func.coalesce(e.c.status, "").in_(BLOCKING),  # through coalesce: see _none_earlier
            lambda e: ~sa.and_(sa.func.coalesce(e.c.last_error, "").startswith(REQUIRES_NOTE),
                               sa.func.coalesce(e.c.method, "") != T.c.method))
        columns = [T.c.seq, T.c.event_type, T.c.subject_type, T.c.subject_id, T.c.version, T.c.created_at,
                   T.c.payload, T.c.attempts, T.c.depends_on, T.c.method, T.c.last_error]
        query = self._lock(sa.select(*columns).where(
            UNDELIVERED, T.c.method.is_not(None), T.c.method != "", T.c.next_attempt_at <= now,
            sa.or_(T.c.lease_until.is_(None), T.c.lease_until <= now), first_of_subject,
        ).order_by(T.c.seq).limit(limit))
        rows = list((await session.execute(query)).all())
        # The first earlier event still unsent per method others wait for: one query per method, not per event,
        # looking no further than the last claimed row (the undelivered events before it, not the whole backlog).
        methods = {d["after_method"] for r in rows for d in r.depends_on or () if "after_method" in d}
        below = max((r.seq for r in rows), default=0)
        first_unsent = {m: await self._first_unsent(session, m, below) for m in methods}
        ready: list[Any] = []
        waiting: list[tuple[Any, str]] = []
        for row in rows:
            blocker = await self._unmet(session, row, first_unsent) if row.depends_on else None
            if blocker:
                waiting.append((row, blocker))
            else:
                ready.append(row)
        if ready:
            await session.execute(sa.update(T).where(T.c.seq.in_([r.seq for r in ready])).values(
                lease_owner=self.owner, lease_until=now + lease, attempts=T.c.attempts + 1))
        if waiting:
            # An event waiting for a record that may take a visit's length to appear is looked at less often
            # than one waiting for an earlier event already on its way.
            await session.execute(
                sa.update(T).where(T.c.seq == sa.bindparam("w_seq")).values(
                    next_attempt_at=sa.bindparam("w_next", type_=T.c.next_attempt_at.type),
                    last_error=sa.bindparam("w_error")),
                [{"w_seq": row.seq, "w_error": blocker,
                  "w_next": now + (hold * REQUIRES_HOLD_FACTOR if blocker.startswith(REQUIRES_NOTE) else hold)}
                 for row, blocker in waiting])
        await session.commit()
        return routed, ready

    async def _first_unsent(self, session: AsyncSession, method: str, below: int) -> int | None:
        # An event not yet routed whose type may give this method holds the line too. Only those types: the new
        # events another dispatcher or lane is routing right now (locked, uncommitted) are mostly of other
        # types, and holding every waiting record behind each of them made parallel dispatchers take turns.
        types = self._routed_from(method)
        unrouted = T.c.method.is_(None) if types is None else sa.and_(T.c.method.is_(None),
                                                                       T.c.event_type.in_(sorted(types)))
        return (await session.execute(sa.select(sa.func.min(T.c.seq)).where(
            UNDELIVERED, T.c.seq < below, sa.or_(T.c.method == method, unrouted)))).scalar()

    async def _unmet(self, session: AsyncSession, row: Any, first_unsent: dict[str, int | None]) -> str | None:
        """The first dependency of `row` not yet met, named for `connector status`; None when all are."""
        for dep in row.depends_on:
            if "after_method" in dep:
                first = first_unsent[dep["after_method"]]
                if first is not None and first < row.seq:
                    return f"{WAITING_NOTE}earlier {dep['after_method']} records"
                continue
            if "after_subject_id" in dep:
                condition = _earlier(row.seq, lambda e, d=dep: e.c.subject_type == d["after_subject_type"],
                                     lambda e, d=dep: e.c.subject_id == d["after_subject_id"],
                                     lambda e: e.c.status.in_(BLOCKING))
                name = f"{WAITING_NOTE}{dep['after_subject_type']} {dep['after_subject_id']}"
            else:
                condition = ~sa.exists().where(T.c.method == dep["requires_method"],
                                               T.c.business_id == dep["business_id"],
                                               T.c.status == OutboxStatus.SENT.value)
                name = f"{REQUIRES_NOTE}{dep['requires_method']} {dep['business_id']} to be delivered"
            if (await session.execute(sa.select(condition))).scalar():
                return name
        return None

    async def settle(self, settlements: Sequence[Settlement]) -> None:
        """Write outcomes back; an event whose lease another dispatcher has since taken (ours ran out) is left
        to that dispatcher."""
        if settlements:
            async with self._factory() as session:
                await self._settle(session, settlements)
                await session.commit()

    async def _settle(self, session: AsyncSession, settlements: Sequence[Settlement]) -> None:
        statement = sa.update(T).where(T.c.seq == sa.bindparam("s_seq"), T.c.lease_owner == self.owner).values(
            status=sa.bindparam("s_status"), last_error=sa.bindparam("s_error"),
            response=sa.bindparam("s_response", type_=T.c.response.type),
            next_attempt_at=sa.func.coalesce(sa.bindparam("s_next", type_=T.c.next_attempt_at.type),
                                             T.c.next_attempt_at),
            sent_at=sa.bindparam("s_sent", type_=T.c.sent_at.type), lease_owner=None, lease_until=None)
        await session.execute(statement, [
            {"s_seq": s.seq, "s_status": s.status, "s_error": s.last_error, "s_response": s.response,
             "s_next": s.next_attempt_at, "s_sent": s.sent_at} for s in settlements])

    async def reroute_parked(self, event_types: Sequence[str]) -> int:
        """Parked events whose type has a mapper now go back to routing."""
        async with self._factory() as session:
            result = await session.execute(sa.update(T).where(
                T.c.status == OutboxStatus.PARKED.value, T.c.event_type.in_(list(event_types)),
            ).values(status=OutboxStatus.PENDING.value, method=None, last_error=None))
            await session.commit()
            return result.rowcount or 0  # type: ignore[attr-defined]
