"""The outbox's sealed part (REC-03): named keys leave the clear payload, open again only with the field key."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime

import pytest

from hospital.core.crypto import FieldCipher, SealedValueError
from hospital.core.outbox import SEALED_KEY, open_payload, stored_payload

PAYLOAD = {"staff_id": "s-1", "name": "周医生", "id_number": "110105199009093412", "at": datetime(2026, 11, 23, tzinfo=UTC)}


def test_sealed_keys_leave_the_clear_payload_and_come_back_whole() -> None:
    cipher = FieldCipher(os.urandom(32))
    stored = stored_payload(PAYLOAD, ("id_number", "absent"), cipher)
    assert set(stored) == {"staff_id", "name", "at", SEALED_KEY} and "110105199009093412" not in str(stored)
    assert open_payload(stored, cipher) == {**PAYLOAD, "at": "2026-11-23 00:00:00+00:00"}


def test_nothing_to_seal_stores_the_payload_as_json() -> None:
    assert stored_payload({"a": 1}) == {"a": 1} and open_payload({"a": 1}, FieldCipher(os.urandom(32))) == {"a": 1}


def test_sealing_without_the_cipher_is_refused_rather_than_stored_in_clear() -> None:
    with pytest.raises(ValueError, match="id_number"):
        stored_payload(PAYLOAD, ("id_number",))


def test_a_sealed_part_opens_only_with_its_key_and_untampered() -> None:
    cipher = FieldCipher(os.urandom(32))
    stored = stored_payload(PAYLOAD, ("id_number",), cipher)
    with pytest.raises(SealedValueError):
        open_payload(stored, FieldCipher(os.urandom(32)))
    raw = bytearray(base64.b64decode(stored[SEALED_KEY]))
    raw[-1] ^= 1
    with pytest.raises(SealedValueError):
        open_payload({**stored, SEALED_KEY: base64.b64encode(bytes(raw)).decode()}, cipher)
