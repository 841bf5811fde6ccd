"""The outbox's sealed part (REC-03): the fields a Payload names in `SEALED` leave the clear payload, open again
only with the field key."""

from __future__ import annotations

import base64
import os

import msgspec
import pytest

from hospital.contracts.institution import DepartmentSet
from hospital.core.crypto import FieldCipher, SealedValueError
from hospital.core.outbox import SEALED_KEY, open_payload, stored_payload
from tests import payloads

pytestmark = pytest.mark.requirement("REC-03", "SUP-02")

RECORD = payloads.staff_record("s-1", name="周医生", id_number="110105199009093412")  # SEALED: id_number


def test_sealed_fields_leave_the_clear_payload_and_come_back_whole() -> None:
    cipher = FieldCipher(os.urandom(32))
    stored = stored_payload(RECORD, cipher)
    assert set(stored) == {*RECORD.__struct_fields__, SEALED_KEY} - {"id_number"}
    assert "110105199009093412" not in str(stored) and stored["name"] == "周医生"
    assert open_payload(stored, cipher) == msgspec.to_builtins(RECORD)


def test_nothing_to_seal_stores_the_payload_as_json() -> None:
    department = DepartmentSet(code="03.03", name="心血管内科专业", approved=True)
    assert stored_payload(department) == {"code": "03.03", "name": "心血管内科专业", "approved": True}
    assert open_payload({"a": 1}, FieldCipher(os.urandom(32))) == {"a": 1}


def test_sealing_without_the_cipher_is_refused_rather_than_stored_in_clear() -> None:
    with pytest.raises(ValueError, match="id_number"):
        stored_payload(RECORD)


def test_a_sealed_part_opens_only_with_its_key_and_untampered() -> None:
    cipher = FieldCipher(os.urandom(32))
    stored = stored_payload(RECORD, cipher)
    with pytest.raises(SealedValueError):
        open_payload(stored, FieldCipher(os.urandom(32)))
    raw = bytearray(base64.b64decode(stored[SEALED_KEY]))
    raw[-1] ^= 1
    with pytest.raises(SealedValueError):
        open_payload({**stored, SEALED_KEY: base64.b64encode(bytes(raw)).decode()}, cipher)
