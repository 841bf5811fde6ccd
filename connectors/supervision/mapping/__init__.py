"""The mapping registry: one small module per event family, each `event_type → (gateway method, records)`.

A family module exposes `MAPPERS: dict[str, Mapper]`. New areas plug in by adding a module here and its name
to `FAMILIES`; an event type with no mapper is an `UnmappedEvent` (parked, visible in `connector status`).
The payload keys each mapper reads are the contract in docs/connector.md.
"""

from __future__ import annotations

import functools
import importlib

from connectors.supervision.mapping.base import (
    After,
    EventView,
    MapContext,
    Mapped,
    Mapper,
    MappingFailed,
    NotReported,
    PatientRef,
    References,
    Requires,
    StaffRef,
    UnmappedEvent,
    seal_payload,
)

__all__ = [
    "FAMILIES",
    "After",
    "EventView",
    "MapContext",
    "Mapped",
    "Mapper",
    "MappingFailed",
    "NotReported",
    "PatientRef",
    "References",
    "Requires",
    "StaffRef",
    "UnmappedEvent",
    "map_event",
    "registry",
    "seal_payload",
]

FAMILIES = ("institution", "staff", "biometrics", "formulary", "visits", "prescriptions", "quality", "security")


@functools.cache
def registry() -> dict[str, Mapper]:
    """Every mapper by event type; two families claiming one type is a programming error."""
    found: dict[str, Mapper] = {}
    for family in FAMILIES:
        module = importlib.import_module(f"connectors.supervision.mapping.{family}")
        for event_type, mapper in module.MAPPERS.items():
            if event_type in found:
                raise RuntimeError(f"event type {event_type} is mapped twice (mapping.{family})")
            found[event_type] = mapper
    return found


def map_event(event: EventView, ctx: MapContext) -> Mapped | NotReported | UnmappedEvent:
    """The platform's records for `event`. Raises `MappingFailed` when the payload cannot be mapped."""
    mapper = registry().get(event.event_type)
    if mapper is None:
        return UnmappedEvent(event.event_type)
    try:
        return mapper(event, ctx)
    except MappingFailed:
        raise
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise MappingFailed(f"{event.event_type}: {type(exc).__name__}: {exc}") from exc
