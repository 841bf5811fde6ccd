"""The dispatcher: reads the outbox after commit and delivers every event at least once (SUP-02).

One round: route new events (map them, decide when they go and what they wait for), claim the due ones under
a lease, send them concurrently (one request per event, several in flight), settle the answers. Retries back
off exponentially with jitter; what the platform refuses is dead-lettered with its message until a person
fixes it and re-queues it (`hospital connector requeue`). A crash loses nothing: a claimed event's lease runs
out and it is sent again, and the platform keeps one copy per business ID and version.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.supervision.directory import Directory, opened_payload
from connectors.supervision.mapping import (
    EventView,
    MapContext,
    Mapped,
    NotReported,
    UnmappedEvent,
    event_view,
)
from connectors.supervision.operations import ensure_daily_check_ins
from connectors.supervision.platform import Platform
from connectors.supervision.queue import Outbox, Route, Settlement
from connectors.supervision.sending import Sender, backoff_delay
from connectors.supervision.settings import ConnectorSettings, Mode
from connectors.supervision.timing import batch_release, business_day
from hospital.core.errors import ConnectorError, HospitalError
from hospital.core.outbox import OutboxStatus
from hospital.core.types import utcnow

__all__ = ["Dispatcher", "backoff_delay"]

log = logging.getLogger("connectors.supervision.dispatcher")
Outcome = Mapped | NotReported | UnmappedEvent | HospitalError  # what mapping one event gives
View = EventView[Any] | UnmappedEvent | HospitalError  # an event read for mapping (no contract: unmapped)
DAILY_EVERY_S = 60.0


class Dispatcher:
    def __init__(self, factory: async_sessionmaker[AsyncSession], settings: ConnectorSettings, platform: Platform,
                 directory: Directory | None, *, postgres: bool, clock: Callable[[], datetime] = utcnow,
                 name: str | None = None, rng: random.Random | None = None,
                 reader: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.settings = settings
        self.platform = platform
        self.directory = directory
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.outbox = Outbox(factory, self.name, postgres=postgres,
                             routed_from=lambda method: platform.timing(method).routed_from)
        self._factory = factory
        self._reader = reader or factory
        self.sender = Sender(platform, settings, clock, rng or random.Random())  # nosec B311
        self._daily_checked = -DAILY_EVERY_S
        self._started = False
        self._routing: set[int] = set()

    def session(self) -> AsyncSession:
        """A session on the dispatcher's database (for filing the catalogue before the first round)."""
        return self._factory()

    def reader(self) -> AsyncSession:
        """A session that only reads (on SQLite it does not take the write lock)."""
        return self._reader()

    def map_context(self) -> MapContext:
        return MapContext(self.settings.organ, self.settings.organ_name, self.settings.tz, self.directory,  # type: ignore[arg-type]
                          prescription_at_signing=self.settings.prescription_at_signing,
                          face_uploads=self.settings.face_uploads,
                          department_uploads=self.settings.department_uploads)

    async def start(self) -> None:
        """Once per process: events parked for want of a mapper that this platform now has are routed again."""
        if not self._started:
            await self.outbox.reroute_parked(sorted(self.platform.registry()))
            self._started = True

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Deliver until `stop` is set (forever when None). `lanes` rounds run at once, so one lane's database
        work overlaps another's requests."""
        stop = stop or asyncio.Event()
        await self.start()
        await asyncio.gather(*(self._lane(stop) for _ in range(self.settings.lanes)))

    async def _lane(self, stop: asyncio.Event) -> None:
        failures = 0
        carry: list[Settlement] = []
        while not stop.is_set():
            try:
                done, carry = await self._round(carry)
                failures = 0
            except (OSError, ConnectorError, HospitalError, SQLAlchemyError) as exc:  # the database hiccupped
                failures += 1
                log.warning("dispatcher round failed (%s): %s", failures, exc)
                await _wait(stop, min(30.0, self.settings.poll_s * 2 ** failures))
                continue
            if not done:
                await _wait(stop, self.settings.poll_s)
        await self.outbox.settle(carry)

    async def step(self) -> int:
        """One whole round, its outcomes written; returns how many events it routed or settled (0: nothing due)."""
        done, settlements = await self._round([])
        await self.outbox.settle(settlements)
        return done

    async def _round(self, carry: list[Settlement]) -> tuple[int, list[Settlement]]:
        """Route, write the previous round's outcomes and claim in one transaction, send. The outcomes are
        returned for the next round to write (or `step` writes them at once)."""
        await self.start()
        if time.monotonic() - self._daily_checked >= DAILY_EVERY_S:
            self._daily_checked = time.monotonic()  # before the await: one lane adds them, not every lane
            await ensure_daily_check_ins(self._factory, self.clock(), self.settings)
        s = self.settings
        # What routing opened and mapped, kept for this round: an event routed and claimed in the same round (the
        # steady state) is not opened and mapped twice. Events never change, so the second mapping would agree.
        # As many are routed as one claim takes, so routing does not run ahead of sending and map events twice.
        mapped_now: dict[int, tuple[View, Outcome]] = {}
        lease, hold = timedelta(seconds=s.lease_s), timedelta(seconds=s.hold_s)
        if self.outbox.postgres:
            # The new events are locked (SKIP LOCKED) while they are mapped and until their routes and the claim
            # commit: parallel dispatchers and lanes each route a share of them, none maps another's.
            async with self._factory() as session:
                fresh = await self.outbox.lock_unrouted(session, s.batch_size)
                decisions = await self._decide(fresh, mapped_now) if fresh else {}
                routed, claimed = await self.outbox.claim(self.clock(), s.batch_size, lease, hold, settle_first=carry,
                                                          routes=(fresh, decisions), session=session)
        else:
            # SQLite: read without a lock (the write lock is not held while mapping); lanes do not map the same
            # new events twice, each takes those no other lane is routing (one dispatcher is enough there).
            fresh = [r for r in await self.outbox.unrouted(self._reader, s.batch_size) if r.seq not in self._routing]
            self._routing.update(r.seq for r in fresh)
            try:
                decisions = await self._decide(fresh, mapped_now) if fresh else {}
                routed, claimed = await self.outbox.claim(self.clock(), s.batch_size, lease, hold, settle_first=carry,
                                                          routes=(fresh, decisions))
            finally:
                self._routing.difference_update(r.seq for r in fresh)
        if not claimed:
            return routed + len(carry), []
        views = await self._views([row for row in claimed if row.seq not in mapped_now])
        prepared = [(row, *mapped_now[row.seq]) if row.seq in mapped_now else (row, views[row.seq], self._map(views[row.seq]))
                    for row in claimed]
        settlements = await self.sender.send(prepared, self.map_context(), max(1, s.concurrency // s.lanes))
        if self.directory is not None and any(x.status == OutboxStatus.DEAD.value for x in settlements):
            self.directory.forget()  # a refusal may come from stale names: read them afresh next time
        return routed + len(settlements), settlements

    async def _views(self, rows: Sequence[Any]) -> dict[int, View]:
        """Each event opened (its sealed part) and converted into its contract Struct, once; the people and
        earlier events the payloads name are loaded into the directory for the mappers."""
        views: dict[int, View] = {}
        opened: list[dict[str, Any]] = []
        for row in rows:
            try:
                payload = opened_payload(row.payload or {}, self.directory)
                views[row.seq] = event_view(row.seq, row.event_type, row.subject_type, row.subject_id, row.version,
                                            row.created_at, payload)
                opened.append(payload)
            except HospitalError as exc:
                views[row.seq] = exc
        if self.directory is not None:
            await self.directory.prepare(opened)
        return views

    def _map(self, view: View) -> Outcome:
        if not isinstance(view, EventView):
            return view
        try:
            return self.platform.map(view, self.map_context())
        except HospitalError as exc:
            return exc

    async def _decide(self, rows: list[Any], mapped_now: dict[int, tuple[View, Outcome]]) -> dict[int, Route]:
        if self.directory is not None and any(row.response is not None for row in rows):
            # A re-queued event (it keeps its last answer): whatever was fixed in the hospital's records is read
            # afresh, not from the cache.
            self.directory.forget()
        views = await self._views(rows)
        routes = {}
        for row in rows:
            mapped_now[row.seq] = (views[row.seq], self._map(views[row.seq]))
            routes[row.seq] = self._route(row, mapped_now[row.seq][1])
        return routes

    def _route(self, row: Any, outcome: Outcome) -> Route:
        if isinstance(outcome, HospitalError):
            return Route(OutboxStatus.DEAD.value, note=f"mapping: {outcome.detail}")
        if isinstance(outcome, UnmappedEvent):
            return Route(OutboxStatus.PARKED.value, note=f"no mapper for {outcome.event_type} yet")
        if isinstance(outcome, NotReported):
            return Route(OutboxStatus.SKIPPED.value, note=outcome.reason)
        timing = self.platform.timing(outcome.method)
        if timing.routed_from is not None and row.event_type not in timing.routed_from:
            # Records of other methods wait only for the types listed before them (queue._first_unsent): an
            # unlisted one could overtake them unseen, so it is not sent until the table names it.
            return Route(OutboxStatus.DEAD.value, note=f"mapping: {row.event_type} gives {outcome.method}, "
                                                       f"which data/timing.csv does not list it under (routed_from)")
        depends = [{"after_method": m} for m in timing.after]
        depends += [{"after_subject_type": a.subject_type, "after_subject_id": a.subject_id} for a in outcome.after]
        depends += [{"requires_method": r.method, "business_id": r.business_id} for r in outcome.requires]
        business_id = self.platform.business_key(outcome)
        release = None
        if self.settings.mode is Mode.T_PLUS_1 and timing.t_plus_1:
            day = outcome.day or business_day(row.created_at, self.settings.tz)
            release = batch_release(day, self.settings.tz, self.settings.batch_at)
        folds = release is not None and release > self.clock()
        return Route(OutboxStatus.PENDING.value, outcome.method, business_id, depends or None, release,
                     supersedes=folds)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
