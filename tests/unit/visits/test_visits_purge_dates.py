"""The purge-date guard (REC-02) and the local calendar day the visit rules use."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hospital.core.clock import local_date
from hospital.core.errors import RuleViolation
from hospital.retention.rules import check_purge_date_reached

pytestmark = pytest.mark.requirement("REC-02")


def test_a_record_is_purged_on_its_date_and_not_a_day_before() -> None:
    check_purge_date_reached("chat message 1", date(2028, 6, 15), date(2028, 6, 15))
    with pytest.raises(RuleViolation) as refused:
        check_purge_date_reached("chat message 1", date(2028, 6, 15), date(2028, 6, 14))
    assert refused.value.rule_id == "REC-02" and refused.value.extra["purge_not_before"] == "2028-06-15"


def test_a_record_without_a_purge_date_is_never_purged() -> None:
    with pytest.raises(RuleViolation) as refused:
        check_purge_date_reached("medical record 1", None, date(2999, 1, 1))
    assert "not closed" in refused.value.detail


def test_the_local_day_turns_at_midnight_in_china_not_in_utc() -> None:
    assert local_date(datetime(2025, 6, 14, 15, 59, tzinfo=UTC)) == date(2025, 6, 14)
    assert local_date(datetime(2025, 6, 14, 16, 0, tzinfo=UTC)) == date(2025, 6, 15)
    with pytest.raises(ValueError):
        local_date(datetime(2025, 6, 14, 16, 0))
