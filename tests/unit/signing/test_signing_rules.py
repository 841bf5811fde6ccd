"""RX-05: a clinician signs only with a certificate they hold, valid at the moment of signing, on a device of their
own, over exactly the bytes the server prepared."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hospital.core.errors import RuleViolation
from hospital.signing.rules import check_own_device, check_signed_bytes, check_signing_credential

pytestmark = pytest.mark.requirement("RX-05")

NOW = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_a_certificate_valid_now_signs() -> None:
    check_signing_credential(NOW - timedelta(days=1), NOW + timedelta(days=1), NOW)


@pytest.mark.parametrize(("valid_from", "valid_until"), [
    (None, None),  # none held (never issued, or revoked)
    (NOW - timedelta(days=400), NOW - timedelta(days=35)),  # expired
    (NOW + timedelta(hours=1), NOW + timedelta(days=365)),  # not yet valid
])
def test_no_certificate_or_one_not_valid_now_refuses(valid_from: datetime | None, valid_until: datetime | None) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_signing_credential(valid_from, valid_until, NOW)
    assert refused.value.rule_id == "RX-05"


PREPARED = "eyJhIjoxfQ"  # base64url of {"a":1}, the canonical payload the server prepared


def test_a_jws_over_the_prepared_bytes_passes() -> None:
    check_signed_bytes(f"eyJhbGciOiJFUzI1NiJ9.{PREPARED}.c2ln", PREPARED)


@pytest.mark.parametrize("jws", [
    "eyJhbGciOiJFUzI1NiJ9.eyJhIjoyfQ.c2ln",  # {"a":2}: one byte off the prepared payload
    "eyJhbGciOiJFUzI1NiJ9.eyAiYSI6IDF9.c2ln",  # { "a": 1}: the same value re-encoded, not the same bytes
    f"eyJhbGciOiJFUzI1NiJ9..{PREPARED}",  # detached or shuffled segments
    "not a jws",
])
def test_a_jws_over_other_bytes_is_refused(jws: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_signed_bytes(jws, PREPARED)
    assert refused.value.rule_id == "RX-05"


DOCTOR, OTHER = uuid.uuid4(), uuid.uuid4()


def test_the_signers_own_active_device_and_its_signature_pass() -> None:
    check_own_device(DOCTOR, False, DOCTOR)
    check_own_device(DOCTOR, False, DOCTOR, signature_fingerprint="ab12", device_fingerprint="ab12")


@pytest.mark.parametrize(("owner", "revoked", "signed_with"), [
    (None, False, None),  # no such device
    (OTHER, False, None),  # another clinician's device
    (DOCTOR, True, None),  # the signer's own device, revoked
    (DOCTOR, False, "cd34"),  # the JWS was made under another certificate than the named device's
])
def test_a_device_not_the_signers_own_and_active_is_refused(owner: uuid.UUID | None, revoked: bool,
                                                            signed_with: str | None) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_own_device(owner, revoked, DOCTOR, signature_fingerprint=signed_with, device_fingerprint="ab12")
    assert refused.value.rule_id == "RX-05"
