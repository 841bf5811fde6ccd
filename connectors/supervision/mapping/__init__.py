"""The mapping registry: one small module per event family, each `event_type → (gateway method, records)`.

A family module exposes `MAPPERS: dict[str, Mapper]`. New areas plug in by adding a module here and its name
to `FAMILIES`; an event type with no mapper is an `UnmappedEvent` (parked, visible in `connector status`).
A mapper reads the event's payload as its contract Struct (`event.data`, hospital/contracts).
"""

from __future__ import annotations

import functools
from typing import Any

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
    collect_mappers,
    dispatch,
    event_view,
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
    "event_view",
    "map_event",
    "registry",
]

FAMILIES = ("institution", "staff", "biometrics", "formulary", "visits", "prescriptions", "quality", "security")


@functools.cache
def registry() -> dict[str, Mapper]:
    """Every mapper by event type; two families claiming one type is a programming error."""
    return collect_mappers("connectors.supervision.mapping", FAMILIES, "MAPPERS")


def map_event(event: EventView[Any], ctx: MapContext) -> Mapped | NotReported | UnmappedEvent:
    """The platform's records for `event`. Raises `MappingFailed` when the payload cannot be mapped."""
    return dispatch(registry(), event, ctx)
