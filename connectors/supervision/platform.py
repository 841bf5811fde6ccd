"""The supervision platform the connector reports to, as one object per protocol (docs/connector.md).

A `Platform` is everything the dispatcher needs to know about the other side: which mapper turns each event
into its records (the registry), when a method's records go and what must reach the platform before them
(timing), the business ID a record is kept under (so a later version folds an earlier one), how records travel
(transport) and what an answer means (Accepted, Retry, FixData). The settings choose the platform once
(`open_platform`); the dispatcher, the sender and routing never ask which protocol it is.

    GatewayPlatform   the SM4/SM3 gateway of supervision-gateway.md (gateway_platform.py)
    FhirPlatform      a FHIR R4 server taking one transaction Bundle per event (fhir/platform.py)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from connectors.supervision.gateway.responses import FixData, Outcome
from connectors.supervision.mapping import EventView, MapContext, Mapped, Mapper, NotReported, UnmappedEvent
from connectors.supervision.settings import ConnectorSettings
from connectors.supervision.settings import Protocol as Wire
from connectors.supervision.timing import MethodTiming

__all__ = ["Platform", "open_platform"]


class Platform(Protocol):
    name: str  # gateway | fhir, for logs and status
    max_records: int  # records one request may carry (1: every event alone)

    def registry(self) -> Mapping[str, Mapper]:
        """Every mapper by event type; a type missing here is parked until a connector that maps it starts."""
        ...

    def map(self, event: EventView[Any], ctx: MapContext) -> Mapped | NotReported | UnmappedEvent:
        """The platform's records for `event` (MappingFailed when its payload cannot be mapped)."""
        ...

    def timing(self, method: str) -> MethodTiming:
        """Whether `method` waits for the nightly T+1 batch, and the methods delivered before it."""
        ...

    def business_key(self, mapped: Mapped) -> str | None:
        """The business ID the platform keeps the mapped record under (None: no record to fold versions of)."""
        ...

    def check(self, mapped: Mapped) -> FixData | None:
        """A refusal found before sending (the platform's own check run here), or None."""
        ...

    async def deliver(self, event: EventView[Any], mapped: Mapped, ctx: MapContext) -> Outcome:
        """Send one event's records; the answer classified (accepted, retry, fix the data or the configuration)."""
        ...

    async def deliver_records(self, method: str, records: list[dict[str, Any]]) -> Outcome:
        """Several events' records of one method in one request (only when `max_records` > 1)."""
        ...

    async def aclose(self) -> None: ...


def open_platform(settings: ConnectorSettings, http: httpx.AsyncClient) -> Platform:
    """The platform `settings.protocol` names, talking through `http`: the one place the protocol is read."""
    if settings.protocol is Wire.FHIR:
        from connectors.supervision.fhir.platform import FhirPlatform

        return FhirPlatform(settings.url, http)
    from connectors.supervision.gateway.client import GatewayClient
    from connectors.supervision.gateway_platform import GatewayPlatform

    client = GatewayClient(settings.url, settings.unit_id, settings.app_key, settings.app_secret, http)
    return GatewayPlatform(client, check_first=settings.precheck, max_records=settings.batch_records)
