"""What every event payload is built from: `Payload` (one per event type, the index is `EVENT_PAYLOADS`) and
`Part` (an object nested in one), both msgspec Structs that refuse unknown fields.

Types as the outbox stores them (JSON): ids are text (our UUIDs, or the subject's own key), times are aware
datetimes (ISO 8601 with an offset; a naive time is refused, never guessed), days are dates. A payload names the
fields that identify a person or describe their health in `SEALED`: `emit` moves them into the outbox row's
sealed part (REC-03), and the connector opens them again before it reads the payload.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

import msgspec

__all__ = ["AwareDatetime", "DecimalText", "IsoDateText", "IsoTimeText", "Part", "Payload"]

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
# The signed prescription document keeps the text it was signed as (hospital.signing.canonical: no floats), so
# these stay strings, checked for their shape.
DecimalText = Annotated[str, msgspec.Meta(pattern=r"^-?\d+(\.\d+)?$")]
IsoDateText = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
IsoTimeText = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")]


class Part(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An object nested in a payload (a credential, a diagnosis, a prescription line)."""


class Payload(Part, kw_only=True):
    """The payload of one event type. Subclasses list their sensitive fields in `SEALED` (REC-03)."""

    SEALED: ClassVar[tuple[str, ...]] = ()
