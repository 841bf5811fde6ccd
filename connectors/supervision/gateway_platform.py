"""The province's SM4/SM3 gateway (supervision-gateway.md) as a `Platform`: the mapping registry
(`connectors/supervision/mapping`), the method timing of `data/timing.csv`, business IDs from the gateway's field
table, the required-field check before sending, and `GatewayClient` (whose answers are already classified:
Accepted, Retry, FixData)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.supervision.gateway.client import GatewayClient
from connectors.supervision.gateway.methods import all_methods, business_key, missing_required
from connectors.supervision.gateway.responses import MISSING_FIELDS, FixData, Outcome
from connectors.supervision.mapping import EventView, MapContext, Mapped, Mapper, NotReported, UnmappedEvent, registry
from connectors.supervision.mapping import map_event as map_gateway_event
from connectors.supervision.timing import MethodTiming, timing_of

__all__ = ["CHECKED_BEFORE_SENDING", "GatewayPlatform", "precheck"]

CHECKED_BEFORE_SENDING = "checked before sending"


def precheck(client: GatewayClient, mapped: Mapped) -> FixData | None:
    """The platform's -99 check run here first: the required fields the records leave empty, named as the
    platform names them (`orderList[0].useDays`); None when every record is complete."""
    missing = dict.fromkeys(name for record in mapped.records
                            for name in missing_required(mapped.method, client.with_unit(record)))
    if not missing:
        return None
    return FixData(MISSING_FIELDS, "|".join(missing), tuple(missing), raw=CHECKED_BEFORE_SENDING)


class GatewayPlatform:
    """The gateway: one method per record kind, arrays of up to `max_records` records per request."""

    name = "gateway"

    def __init__(self, client: GatewayClient, *, check_first: bool = True, max_records: int = 50) -> None:
        self.client = client
        self.check_first = check_first
        self.max_records = max_records

    def registry(self) -> Mapping[str, Mapper]:
        return registry()

    def map(self, event: EventView[Any], ctx: MapContext) -> Mapped | NotReported | UnmappedEvent:
        return map_gateway_event(event, ctx)

    def timing(self, method: str) -> MethodTiming:
        return timing_of(method)

    def business_key(self, mapped: Mapped) -> str | None:
        # A request of several records (the drug catalogue) or an empty push (the daily check-in) folds nothing.
        if len(mapped.records) != 1 or mapped.method not in all_methods():
            return None
        return business_key(mapped.method, mapped.records[0])[0]

    def check(self, mapped: Mapped) -> FixData | None:
        return precheck(self.client, mapped) if self.check_first else None

    async def deliver(self, event: EventView[Any], mapped: Mapped, ctx: MapContext) -> Outcome:
        return await self.client.send(mapped.method, mapped.records)

    async def deliver_records(self, method: str, records: list[dict[str, Any]]) -> Outcome:
        return await self.client.send(method, records)

    async def aclose(self) -> None:
        return None
