"""How a mapped event reaches the platform: the SM4/SM3 gateway, or a FHIR server (`fhir.transport`).

Both answer with the gateway's `Outcome` (Accepted, Retry, FixData), so the dispatcher treats every platform
the same way: accepted → sent, retry → back off, fix the data → dead-lettered with the platform's message.
"""

from __future__ import annotations

from typing import Protocol

from connectors.supervision.gateway.client import GatewayClient
from connectors.supervision.gateway.methods import missing_required
from connectors.supervision.gateway.responses import MISSING_FIELDS, FixData, Outcome
from connectors.supervision.mapping import EventView, MapContext, Mapped

__all__ = ["CHECKED_BEFORE_SENDING", "GatewayTransport", "Transport", "precheck"]

CHECKED_BEFORE_SENDING = "checked before sending"


class Transport(Protocol):
    async def deliver(self, event: EventView, mapped: Mapped, ctx: MapContext) -> Outcome: ...

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

    def __init__(self, client: GatewayClient, *, check_first: bool = True) -> None:
        self.client = client
        self.check_first = check_first

    async def deliver(self, event: EventView, mapped: Mapped, ctx: MapContext) -> Outcome:
        if self.check_first:
            refused = precheck(self.client, mapped)
            if refused is not None:
                return refused
        return await self.client.send(mapped.method, mapped.records)

    async def aclose(self) -> None:
        return None
