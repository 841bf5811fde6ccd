from __future__ import annotations

from datetime import date

import pytest

from hospital.core.errors import RuleViolation
from hospital.patients import rules

pytestmark = pytest.mark.requirement("PAT-01")

TODAY = date(2026, 11, 23)


def test_a_valid_resident_id_gives_birth_date_and_sex() -> None:
    resident = rules.check_resident_id("11010519491231002X", TODAY)
    assert (resident.birth_date, resident.sex) == (date(1949, 12, 31), "female")


def test_a_resident_id_with_a_bad_check_digit_is_refused() -> None:
    with pytest.raises(RuleViolation) as refused:
        rules.check_resident_id("110105194912310021", TODAY)
    assert refused.value.rule_id == "PAT-01"
    assert "check digit" in refused.value.detail


@pytest.mark.parametrize("raw", ["11010519491231002", "1101051949123100XX", "110105194913310025", "ABCDEFGHIJKLMNOPQR"])
def test_malformed_resident_ids_are_refused(raw: str) -> None:
    with pytest.raises(RuleViolation):
        rules.check_resident_id(raw, TODAY)


def test_a_birth_date_in_the_future_is_refused() -> None:
    from stdnum.cn import ric

    body = "11010520300101001"
    number = body + ric.calc_check_digit(body + "0")
    with pytest.raises(RuleViolation):
        rules.check_resident_id(number, TODAY)


def test_phone_numbers_must_be_mainland_mobiles() -> None:
    assert rules.check_phone("+86 138-0013-8000") == "13800138000"
    for bad in ("12800138000", "1380013800", "021-12345678"):
        with pytest.raises(RuleViolation):
            rules.check_phone(bad)


def test_age_counts_whole_years() -> None:
    assert rules.age_on(date(2020, 11, 24), TODAY) == 5
    assert rules.age_on(date(2020, 11, 23), TODAY) == 6
