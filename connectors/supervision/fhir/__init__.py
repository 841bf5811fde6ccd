"""The FHIR adapter: the same outbox events as FHIR R4 resources, for platforms that take FHIR (docs/connector.md).

One module per family, each `FHIR_MAPPERS: dict[str, Mapper]`, whose `Mapped.records` are FHIR JSON
resources validated by `fhir.resources` as they are built. Events no FHIR mapper handles are unmapped (parked);
a mapper may say NotReported. `fhir.platform.FhirPlatform` sends them as one transaction Bundle per event.
"""

from __future__ import annotations

import functools
from typing import Any

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

FHIR_FAMILIES = ("staff", "visits", "prescriptions", "quality")


@functools.cache
def fhir_registry() -> dict[str, Mapper]:
    return collect_mappers("connectors.supervision.fhir", FHIR_FAMILIES, "FHIR_MAPPERS")


def map_fhir_event(event: EventView[Any], ctx: MapContext) -> Mapped | NotReported | UnmappedEvent:
    """The event's FHIR resources. Every event type is decided here, a resource or NotReported with its reason:
    a type no FHIR mapper names is unmapped (parked, visible in `connector status`), never skipped by default."""
    return dispatch(fhir_registry(), event, ctx, label=" (FHIR)")
