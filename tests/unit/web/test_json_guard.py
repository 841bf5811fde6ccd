"""The JSON body guard (hospital.web.http): what it refuses, and what it must not (brackets and dates inside text)."""

from __future__ import annotations

import pytest

from hospital.core.errors import InvalidInput, MalformedRequest, PayloadTooLarge
from hospital.web.http import MAX_JSON_BYTES, MAX_JSON_DEPTH, check_json_body, check_query


@pytest.mark.parametrize("body", [
    b'{"body": "' + b"[" * 500 + b'"}',  # brackets inside a string are text, not nesting
    b'{"body": "say \\"[[[[\\" twice", "n": [[1], [2]]}',  # escaped quotes do not end the string
    b'{"note": "seen on 9999-12-31 in the chart"}',  # a date inside text is text
    b'{"text": "a\\\\u0000b"}',  # an escaped backslash before u0000 is no NUL
    b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH,
    b"",
    b"not json at all",  # left to the decoder (400)
])
def test_what_the_guard_lets_through(body: bytes) -> None:
    check_json_body(body)


@pytest.mark.parametrize(("body", "error"), [
    (b'{"a": "\xff"}', MalformedRequest),
    (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), MalformedRequest),
    (b'{"a": {"b": ' * 40 + b"1" + b"}}" * 20, MalformedRequest),
    (b'{"a": "x\\u0000"}', MalformedRequest),
    (b'{"a": "x\\U0000"}', MalformedRequest),
    (b'"' + b"x" * MAX_JSON_BYTES + b'"', PayloadTooLarge),
    (b'{"day": "0001-01-01"}', InvalidInput),
    (b'{"items": [{"valid_until": "9999-12-31"}]}', InvalidInput),
    (b'{"at": "2200-01-01T00:00:00+08:00"}', InvalidInput),
])
def test_what_the_guard_refuses(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_json_body(body)


def test_query_dates_and_encoding() -> None:
    check_query(b"day=2026-12-03&department=03.04")
    with pytest.raises(InvalidInput, match="day"):
        check_query(b"day=1899-12-31")
    with pytest.raises(MalformedRequest):
        check_query(b"q=%ff%fe")
