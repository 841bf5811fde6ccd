"""RX-05: a clinician signs only with a certificate they hold, valid at the moment of signing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hospital.core.errors import RuleViolation
from hospital.signing.rules import check_signing_credential

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
