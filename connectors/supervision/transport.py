"""How a mapped event reaches the platform: the SM4/SM3 gateway, or a FHIR server (`fhir.transport`).

Both answer with the gateway's `Outcome` (Accepted, Retry, FixData), so the dispatcher treats every platform
the same way: accepted → sent, retry → back off, fix the data → dead-lettered with the platform's message.
"""

from __future__ import annotations

from typing import Any, Protocol

from connectors.supervision.gateway.client import GatewayClient
from connectors.supervision.gateway.methods import missing_required
from connectors.supervision.gateway.responses import MISSING_FIELDS, FixData, Outcome
from connectors.supervision.mapping import EventView, MapContext, Mapped

__all__ = ["CHECKED_BEFORE_SENDING", "GatewayTransport", "Transport", "precheck"]

CHECKED_BEFORE_SENDING = "checked before sending"


class Transport(Protocol):
    max_records: int  # records one request may carry (1: every event alone)

    def check(self, mapped: Mapped) -> FixData | None:
        """A refusal found before sending (the platform's -99 checked here), or None."""
        ...

    async def deliver(self, event: EventView[Any], mapped: Mapped, ctx: MapContext) -> Outcome: ...

    async def deliver_records(self, method: str, records: list[dict[str, Any]]) -> Outcome:
        """Several events' records of one method in one request (only when `max_records` > 1)."""
        ...

    async def aclose(self) -> None: ...


def precheck(client: GatewayClient, mapped: Mapped) -> FixData | None:
    """The platform's -99 check run here first: the required fields the records leave empty, named as the
    platform names them (`orderList[0].useDays`); None when every record is complete."""
    missing = dict.fromkeys(name for record in mapped.records
                            for name in missing_required(mapped.method, client.with_unit(record)))
    if not missing:
        return None
    return FixData(MISSING_FIELDS, "|".join(missing), tuple(missing), raw=CHECKED_BEFORE_SENDING)


class GatewayTransport:
    """The province's gateway (supervision-gateway.md) through `GatewayClient`."""

    def __init__(self, client: GatewayClient, *, check_first: bool = True, max_records: int = 50) -> None:
        self.client = client
        self.check_first = check_first
        self.max_records = max_records

    def check(self, mapped: Mapped) -> FixData | None:
        return precheck(self.client, mapped) if self.check_first else None

    async def deliver(self, event: EventView[Any], mapped: Mapped, ctx: MapContext) -> Outcome:
        return await self.client.send(mapped.method, mapped.records)

    async def deliver_records(self, method: str, records: list[dict[str, Any]]) -> Outcome:
        return await self.client.send(method, records)

    async def aclose(self) -> None:
        return None
