"""The typed payload of every outbox event (SUP-02): one msgspec Struct per event type, shared by the areas
that emit the events and the connector that maps them, so neither reads the other's dicts by convention.

    EVENT_PAYLOADS    event type → its Payload class, every event type the areas (and the connector) emit
    conform()         a payload (a Payload as the areas build it, or the dict the outbox stores and the
                      connector reads back) checked against its type's Payload: an unknown event type, a
                      missing field, an unknown or mistyped one is a ContractViolation

One module per publishing area (institution, staff, biometrics, video, visits, prescriptions, quality,
security) and the connector's own (supervision); each exposes `EVENTS`. This package imports no area: the
areas and `connectors/` both import it. `hospital.core.outbox.emit` takes only Payloads, conforms each and
seals the fields it names in `SEALED` (REC-03); the connector opens them and converts the whole payload back
into the same Struct before any mapper reads it (docs/connector.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from hospital.contracts import (
    biometrics,
    institution,
    prescriptions,
    quality,
    security,
    staff,
    supervision,
    video,
    visits,
)
from hospital.contracts.base import AwareDatetime, Part, Payload
from hospital.core.errors import ContractViolation

__all__ = ["EVENT_PAYLOADS", "AwareDatetime", "ContractViolation", "Part", "Payload", "conform", "payload_type",
           "to_stored"]

P = TypeVar("P", bound=Payload)


def _index() -> dict[str, type[Payload]]:
    found: dict[str, type[Payload]] = {}
    for module in (institution, staff, biometrics, video, visits, prescriptions, quality, security, supervision):
        for event_type, kind in module.EVENTS.items():
            if event_type in found:
                raise RuntimeError(f"event type {event_type} has two payload contracts ({module.__name__})")
            found[event_type] = kind
    return found


EVENT_PAYLOADS: dict[str, type[Payload]] = _index()


def payload_type(event_type: str) -> type[Payload]:
    """The Payload class of `event_type`; an event type no contract names is a ContractViolation."""
    kind = EVENT_PAYLOADS.get(event_type)
    if kind is None:
        raise ContractViolation(f"no payload contract for event type {event_type!r} (hospital/contracts)",
                                event_type=event_type)
    return kind


def conform(event_type: str, payload: Payload | Mapping[str, Any], kind: type[P] | None = None) -> P:
    """`payload` as its event type's Payload, checked field by field (types, required fields, no unknown ones).

    A Payload instance is checked too (msgspec does not check types when a Struct is built). A dict is read as
    the outbox stores it (what `to_stored` gives, the sealed part opened); values it holds that JSON does not
    (UUIDs, aware datetimes, enums, Decimals) become their text first. `kind` narrows the result for the type
    checker (and must be the event type's Payload)."""
    expected = payload_type(event_type)
    if kind is not None and kind is not expected:
        raise ContractViolation(f"{event_type} carries {expected.__name__}, not {kind.__name__}", event_type=event_type)
    if isinstance(payload, Payload) and type(payload) is not expected:
        raise ContractViolation(f"{event_type} carries {expected.__name__}, not {type(payload).__name__}",
                                event_type=event_type)
    try:
        plain = msgspec.to_builtins(payload)
        found = msgspec.convert(plain, expected)
    except (msgspec.ValidationError, TypeError) as exc:
        raise ContractViolation(f"{event_type} payload breaks {expected.__name__}: {exc}", event_type=event_type) from exc
    return found  # type: ignore[return-value]


def to_stored(payload: Payload) -> dict[str, Any]:
    """The payload as JSON values (what the outbox row holds before sealing)."""
    stored: dict[str, Any] = msgspec.to_builtins(payload)
    return stored
