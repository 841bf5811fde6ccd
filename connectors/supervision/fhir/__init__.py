"""The FHIR adapter: the same outbox events as FHIR R4 resources, for platforms that take FHIR (docs/connector.md).

One module per family, each `FHIR_MAPPERS: dict[str, Mapper]`, whose `Mapped.records` are FHIR JSON
resources validated by `fhir.resources` as they are built. Events no FHIR mapper handles are unmapped (parked);
a mapper may say NotReported. `fhir.transport` sends them as one transaction Bundle per event.
"""

from __future__ import annotations

import functools

from connectors.supervision.mapping.base import (
    EventView,
    MapContext,
    Mapped,
    Mapper,
    NotReported,
    UnmappedEvent,
    collect_mappers,
    dispatch,
)

__all__ = ["FHIR_FAMILIES", "fhir_registry", "map_fhir_event"]

FHIR_FAMILIES = ("staff", "visits", "prescriptions")


@functools.cache
def fhir_registry() -> dict[str, Mapper]:
    return collect_mappers("connectors.supervision.fhir", FHIR_FAMILIES, "FHIR_MAPPERS")


def map_fhir_event(event: EventView, ctx: MapContext) -> Mapped | NotReported | UnmappedEvent:
    outcome = dispatch(fhir_registry(), event, ctx, label=" (FHIR)")
    if isinstance(outcome, UnmappedEvent):
        from connectors.supervision.mapping import registry

        if event.event_type in registry():  # a gateway record with no FHIR counterpart in our profile
            return NotReported(f"{event.event_type} has no resource in the FHIR profile (docs/connector.md)")
    return outcome
