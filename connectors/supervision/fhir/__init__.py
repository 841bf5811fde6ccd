"""The FHIR adapter: the same outbox events as FHIR R4 resources, for platforms that take FHIR (docs/connector.md).

One module per family, each `FHIR_MAPPERS: dict[str, Mapper]`, whose `Mapped.records` are FHIR JSON
resources validated by `fhir.resources` as they are built. Events no FHIR mapper handles are unmapped (parked);
a mapper may say NotReported. `fhir.transport` sends them as one transaction Bundle per event.
"""

from __future__ import annotations

import functools
import importlib

from connectors.supervision.mapping.base import (
    EventView,
    MapContext,
    Mapped,
    Mapper,
    MappingFailed,
    NotReported,
    UnmappedEvent,
)

__all__ = ["FHIR_FAMILIES", "fhir_registry", "map_fhir_event"]

FHIR_FAMILIES = ("staff", "visits", "prescriptions")


@functools.cache
def fhir_registry() -> dict[str, Mapper]:
    found: dict[str, Mapper] = {}
    for family in FHIR_FAMILIES:
        module = importlib.import_module(f"connectors.supervision.fhir.{family}")
        for event_type, mapper in module.FHIR_MAPPERS.items():
            if event_type in found:
                raise RuntimeError(f"event type {event_type} has two FHIR mappers (fhir.{family})")
            found[event_type] = mapper
    return found


def map_fhir_event(event: EventView, ctx: MapContext) -> Mapped | NotReported | UnmappedEvent:
    mapper = fhir_registry().get(event.event_type)
    if mapper is None:
        from connectors.supervision.mapping import registry

        if event.event_type in registry():  # a gateway record with no FHIR counterpart in our profile
            return NotReported(f"{event.event_type} has no resource in the FHIR profile (docs/connector.md)")
        return UnmappedEvent(event.event_type)
    try:
        return mapper(event, ctx)
    except MappingFailed:
        raise
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise MappingFailed(f"{event.event_type} (FHIR): {type(exc).__name__}: {exc}") from exc
