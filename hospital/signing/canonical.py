"""Canonical JSON: the exact bytes a prescription or review signature covers (RX-05, RX-06).

The rules, so that any language can rebuild the bytes:

- object keys sorted by code point, no insignificant whitespace (`,` and `:`), UTF-8, non-ASCII characters
  written as themselves; only `"`, `\\` and control characters are escaped (`\\b \\f \\n \\r \\t`, else
  `\\u00xx`), exactly as JSON.stringify and RFC 8785 (JCS) do;
- keys are strings; values are objects, arrays, strings, true/false/null and integers of at most 15 digits;
- no floats at all.

Why no floats: the signature covers bytes, so a pharmacy re-encoding the payload must get the same bytes.
Integers and strings encode identically everywhere; floats do not: Python writes `1e-07` and `1.0`, JavaScript
`1e-7` and `1`, Java's Double.toString `1.0E-7`, and 0.1 is not even exact in binary. Amounts and doses are
therefore decimal strings ("12.50") or integers in the smallest unit (fen). Integers stop at 15 digits because
larger ones are not exact in JavaScript's numbers. With these limits the bytes equal RFC 8785 output, so a
verifier in Java or JavaScript can use a stock JCS library (for ASCII keys, where the sort orders agree).

Encoding and parsing use msgspec (a litestar dependency): `json.dumps(sort_keys=True)` costs about as much as
the ECDSA signature itself, and RX-05 signing throughput matters. Its sorted, compact UTF-8 output is the same
bytes (tested against the standard library). Only JSON-native Python values are accepted (dict, list, tuple,
str, int, bool, None, and their subclasses such as StrEnum); convert Decimal, dates and UUIDs to strings first.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from hospital.core.errors import InvalidInput

__all__ = ["MAX_DEPTH", "canonical_json", "parse_canonical", "payload_sha256"]

MAX_DEPTH = 16
_MAX_INTEGER = 10**15 - 1


_ENCODER = msgspec.json.Encoder(order="sorted")
# Parsing is untyped, then checked by the same walk as signing. A msgspec type cannot say "JSON without floats,
# nested at most 16 deep" cheaply: msgspec has no recursive types, and the unrolled 16-deep Union
# (None | bool | int | str | list[V] | dict[str, V] at each level) is a tree of 2**16 type nodes that took
# seconds to hash and build at import. The walk refuses the same values: floats, integers beyond 15 digits,
# containers nested deeper than MAX_DEPTH; JSON object keys are strings already.
_DECODER = msgspec.json.Decoder()


def canonical_json(payload: Any) -> bytes:
    """The canonical UTF-8 bytes of `payload`; InvalidInput on a float, a too-large integer or a non-JSON value."""
    problem = _first_refusal(payload)
    if problem:
        raise InvalidInput(f"payload cannot be signed: {problem}")
    try:
        return _ENCODER.encode(payload)
    except (TypeError, ValueError) as exc:  # non-string keys
        raise InvalidInput(f"payload cannot be signed: {exc}") from exc


def payload_sha256(payload: Any) -> str:
    """Hex SHA-256 of the canonical bytes; how a review names the prescription it approves (RX-06)."""
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def parse_canonical(data: bytes) -> Any:
    """Parse bytes that must already be canonical; InvalidInput unless re-encoding gives the same bytes.

    Catches reordered keys, added whitespace, escaped non-ASCII, duplicate keys, floats and big integers:
    anything a verifier in another language could re-encode differently.
    """
    try:
        value = _DECODER.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidInput(f"payload is not canonical JSON: {exc}") from exc
    except RecursionError:  # msgspec's own limit, far beyond MAX_DEPTH
        raise InvalidInput(f"payload is not canonical JSON: nested deeper than {MAX_DEPTH} levels") from None
    problem = _first_refusal(value)
    if problem:
        raise InvalidInput(f"payload is not canonical JSON: {problem}")
    if _ENCODER.encode(value) != data:
        raise InvalidInput("payload bytes are not in canonical form (key order, whitespace or escaping differ)")
    return value


def _first_refusal(value: Any) -> str | None:
    """Walk level by level (depth comes free, cycles stop at MAX_DEPTH); None if the value is signable."""
    level = [value]
    for depth in range(MAX_DEPTH + 2):
        below: list[Any] = []
        for item in level:
            kind = type(item)
            if kind is str or item is None or kind is bool:
                continue
            if kind is int:
                if not -_MAX_INTEGER <= item <= _MAX_INTEGER:
                    return f"integer {item} has more than 15 digits; use a string"
            elif kind is dict or kind is list or kind is tuple or isinstance(item, dict | list | tuple):
                if depth == MAX_DEPTH:
                    return f"nested deeper than {MAX_DEPTH} levels"
                below.extend(item.values() if isinstance(item, dict) else item)
            elif isinstance(item, float):
                return f"{item!r} is a float; use a decimal string or an integer (floats encode differently across languages)"
            elif isinstance(item, str | int):  # StrEnum, IntEnum, bool handled above
                if isinstance(item, int) and not -_MAX_INTEGER <= item <= _MAX_INTEGER:
                    return f"integer {item} has more than 15 digits; use a string"
            else:
                return f"{type(item).__name__} is not a JSON value; convert it to a string"
        if not below:
            return None
        level = below
    return None  # unreachable: the depth check returns first
