from __future__ import annotations

import enum
import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hospital.core.errors import InvalidInput
from hospital.signing.canonical import MAX_DEPTH, canonical_json, parse_canonical, payload_sha256


def test_keys_are_sorted_without_whitespace_and_text_stays_utf8() -> None:
    assert canonical_json({"b": 1, "a": ["阿莫西林", None, True]}) == '{"a":["阿莫西林",null,true],"b":1}'.encode()


def test_control_characters_are_escaped_like_json_stringify() -> None:
    assert canonical_json({"x": "a\n\t\"\\\x01/"}) == b'{"x":"a\\n\\t\\"\\\\\\u0001/"}'


@pytest.mark.parametrize("value", [0.1, 1.0, float("nan"), float("inf")])
def test_floats_are_refused_even_whole_or_not_finite(value: float) -> None:
    with pytest.raises(InvalidInput, match="float"):
        canonical_json({"items": [{"dose": value}]})


def test_integers_beyond_15_digits_are_refused() -> None:
    assert canonical_json({"fen": 10**15 - 1}) == b'{"fen":999999999999999}'
    with pytest.raises(InvalidInput, match="15 digits"):
        canonical_json({"fen": 10**15})


def test_non_json_values_and_non_string_keys_are_refused() -> None:
    with pytest.raises(InvalidInput, match="Decimal"):
        canonical_json({"amount": Decimal("12.50")})
    with pytest.raises(InvalidInput):
        canonical_json({1: "x"})


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(InvalidInput):
        canonical_json({"name": "\ud800"})


def test_string_enums_are_written_as_their_value() -> None:
    class Decision(enum.StrEnum):
        APPROVE = "approve"

    assert canonical_json({"decision": Decision.APPROVE}) == b'{"decision":"approve"}'


def test_cycles_and_excessive_nesting_are_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(InvalidInput, match="deeper"):
        canonical_json(loop)


def test_payload_sha256_is_the_hash_of_the_canonical_bytes() -> None:
    payload = {"b": "二", "a": 1}
    assert payload_sha256(payload) == hashlib.sha256('{"a":1,"b":"二"}'.encode()).hexdigest()


@pytest.mark.parametrize(
    "data",
    [
        b'{"b":1,"a":2}',  # key order
        b'{"a": 1}',  # whitespace
        b'{"a":"\\u00e9"}',  # escaped non-ASCII
        b'{"a":1,"a":2}',  # duplicate key
        b'{"a":1.0}',  # float
        b'{"a":1000000000000000}',  # 16 digits
        b'{"a":1',  # not JSON
    ],
)
def test_non_canonical_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_canonical(data)


def test_nesting_limit_is_the_same_for_signing_and_verifying() -> None:
    deepest: Any = []
    for _ in range(MAX_DEPTH - 1):
        deepest = [deepest]
    assert parse_canonical(canonical_json(deepest)) == deepest
    with pytest.raises(InvalidInput):
        canonical_json([deepest])
    with pytest.raises(InvalidInput):
        parse_canonical(b"[" + canonical_json(deepest) + b"]")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**15) + 1, 10**15 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(_json_values)
def test_bytes_equal_the_standard_library_with_sorted_keys_and_round_trip(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert canonical_json(value) == expected
    assert parse_canonical(expected) == value
