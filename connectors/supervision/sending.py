"""Sending a round's claimed events: records of one method go together in one request (up to
`batch_records`), and each outcome becomes the event's settlement.

The platform takes or refuses a request whole ("one bad record rejects the whole batch"), so a refused
multi-record request is not dead-lettered: its events are sent again at once, each alone (`ISOLATE_NOTE`), and
only the one the platform refuses on its own is dead-lettered with the platform's message.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from connectors.supervision.gateway.responses import Accepted, FixData, Outcome, Retry
from connectors.supervision.mapping import EventView, MapContext, Mapped, NotReported, UnmappedEvent
from connectors.supervision.platform import Platform
from connectors.supervision.queue import Settlement
from connectors.supervision.settings import ConnectorSettings
from hospital.core.errors import ConnectorError, HospitalError
from hospital.core.outbox import OutboxStatus

__all__ = ["ISOLATE_NOTE", "Sender", "backoff_delay"]

log = logging.getLogger("connectors.supervision.dispatcher")
ISOLATE_NOTE = "sent alone next: "
Prepared = tuple[Any, EventView[Any] | UnmappedEvent | HospitalError,
                 Mapped | NotReported | UnmappedEvent | HospitalError]
Request = list[tuple[Any, EventView[Any], Mapped]]


def backoff_delay(attempts: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half the step fixed, half random, so a crowd of retries
    spreads out while each still waits at least half its step."""
    step = min(cap_s, base_s * 2 ** max(0, attempts - 1))
    return step / 2 + rng.uniform(0, step / 2)


class Sender:
    def __init__(self, platform: Platform, settings: ConnectorSettings, clock: Callable[[], datetime],
                 rng: random.Random) -> None:
        self.platform = platform
        self.settings = settings
        self.clock = clock
        self.rng = rng

    def _requests(self, prepared: list[Prepared], settlements: list[Settlement]) -> list[Request]:
        requests: list[Request] = []
        groups: dict[str, Request] = {}
        for row, view, mapped in prepared:
            if not isinstance(mapped, Mapped) or not isinstance(view, EventView):
                settlements.append(self.unsendable(row, mapped))
                continue
            refused = self.platform.check(mapped)
            if refused is not None:
                settlements.append(self.settlement(row, mapped, refused, self.clock()))
            elif (self.platform.max_records > 1 and len(mapped.records) == 1
                  and not (row.last_error or "").startswith(ISOLATE_NOTE)):
                groups.setdefault(mapped.method, []).append((row, view, mapped))
            else:
                requests.append([(row, view, mapped)])
        size = max(1, self.platform.max_records)
        for group in groups.values():
            requests += [group[i:i + size] for i in range(0, len(group), size)]
        return requests

    async def send(self, prepared: list[Prepared], ctx: MapContext, concurrency: int) -> list[Settlement]:
        settlements: list[Settlement] = []
        limit = asyncio.Semaphore(max(1, concurrency))

        async def one(request: Request) -> list[Settlement]:
            async with limit:
                try:
                    if len(request) == 1:
                        _, view, mapped = request[0]
                        outcome: Outcome = await self.platform.deliver(view, mapped, ctx)
                    else:
                        records = [m.records[0] for _, _, m in request]
                        outcome = await self.platform.deliver_records(request[0][2].method, records)
                except ConnectorError as exc:
                    outcome = Retry(f"connector error: {exc.detail}")
            now = self.clock()
            if isinstance(outcome, FixData) and len(request) > 1:
                which = "; ".join(f"record {r.get('index')} ({r.get('businessId')})" for r in outcome.records)
                refused = f"{outcome.code} {outcome.msg}" + (f" [{which}]" if which else "")
                note = f"{ISOLATE_NOTE}the request of {len(request)} was refused: {refused}"[:500]
                return [Settlement(row.seq, OutboxStatus.RETRYING.value, now, note,
                                   {"method": m.method, "code": outcome.code, "raw": outcome.raw[:2000]})
                        for row, _, m in request]
            return [self.settlement(row, m, outcome, now) for row, _, m in request]

        for result in await asyncio.gather(*(one(r) for r in self._requests(prepared, settlements))):
            settlements += result
        return settlements

    def unsendable(self, row: Any, mapped: Any) -> Settlement:
        if isinstance(mapped, UnmappedEvent):
            return Settlement(row.seq, OutboxStatus.PARKED.value, last_error=f"no mapper for {mapped.event_type}")
        if isinstance(mapped, NotReported):
            return Settlement(row.seq, OutboxStatus.SKIPPED.value, last_error=mapped.reason)
        detail = mapped.detail if isinstance(mapped, HospitalError) else str(mapped)
        return Settlement(row.seq, OutboxStatus.DEAD.value, last_error=f"mapping: {detail}")

    def settlement(self, row: Any, mapped: Mapped, outcome: Outcome, now: datetime) -> Settlement:
        if isinstance(outcome, Accepted):
            return Settlement(row.seq, OutboxStatus.SENT.value, sent_at=now,
                              response={"method": mapped.method, "msg": outcome.msg, "data": outcome.data})
        if isinstance(outcome, Retry):
            delay = backoff_delay(row.attempts + 1, self.settings.retry_base_s, self.settings.retry_cap_s, self.rng)
            return Settlement(row.seq, OutboxStatus.RETRYING.value, now + timedelta(seconds=delay),
                              f"{outcome.reason}: {outcome.msg}".strip(": ")[:500],
                              {"method": mapped.method, "code": outcome.code, "raw": outcome.raw[:2000]})
        kind = "configuration" if outcome.is_configuration else "data"
        log.error("event #%s (%s) dead-lettered: %s %s", row.seq, row.event_type, outcome.code, outcome.msg)
        return Settlement(row.seq, OutboxStatus.DEAD.value, last_error=f"{outcome.code} {outcome.msg}"[:500],
                          response={"method": mapped.method, "code": outcome.code, "msg": outcome.msg,
                                    "fields": list(outcome.fields), "records": list(outcome.records), "fix": kind,
                                    "raw": outcome.raw[:2000]})
