"""Visit records: the EMR (REC-01) and retention (REC-02)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from hospital.core.errors import RuleViolation
from hospital.core.retention import RetentionClass, due_for_purge, purge_not_before
from hospital.retention.rules import check_purge_allowed
from hospital.visits.dates import add_months
from hospital.visits.encounter.rules import OnlineEmr, check_emr_complete

pytestmark = pytest.mark.requirement("REC-01", "REC-02")


@pytest.mark.parametrize(
    ("retention_class", "closed_on", "not_before"),
    [
        ("medical_record", date(2025, 6, 15), date(2040, 6, 15)),
        ("chat", date(2025, 6, 15), date(2028, 6, 15)),
        ("audio_video", date(2025, 6, 15), date(2028, 6, 15)),
        ("audit_trail", date(2025, 6, 15), date(2040, 6, 15)),
        ("medical_record", date(2024, 2, 29), date(2039, 3, 1)),
        ("chat", date(2024, 2, 29), date(2027, 3, 1)),
        ("medical_record", date(2020, 2, 29), date(2035, 3, 1)),
        ("chat", date(2025, 2, 28), date(2028, 2, 28)),
    ],
)
def test_retention_ends_on_the_anniversary_and_a_leap_day_waits_for_march(
    retention_class: str, closed_on: date, not_before: date
) -> None:
    assert purge_not_before(retention_class, closed_on) == not_before


def test_nothing_is_due_a_day_before_its_time() -> None:
    assert not due_for_purge("chat", date(2024, 2, 29), date(2027, 2, 28))
    assert due_for_purge("chat", date(2024, 2, 29), date(2027, 3, 1))


def test_purging_early_is_refused_naming_the_first_allowed_day() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_purge_allowed("medical_record", date(2025, 6, 15), date(2039, 12, 31))
    assert caught.value.rule_id == "REC-02"
    assert caught.value.extra["purge_not_before"] == "2040-06-15"
    check_purge_allowed("medical_record", date(2025, 6, 15), date(2040, 6, 15))


def test_medical_records_are_kept_longer_than_chats() -> None:
    assert RetentionClass.MEDICAL_RECORD.years == 15
    assert RetentionClass.CHAT.years == RetentionClass.AUDIO_VIDEO.years == 3


def test_months_land_on_the_last_day_of_a_shorter_month() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


EMR = OnlineEmr(
    visited_at=datetime(2025, 6, 15, 9, 30, tzinfo=UTC),
    department_code="03.04",
    chief_complaint="血压控制不佳1周",
    present_illness="高血压病史3年 规律服用氨氯地平",
    allergy_history="无",
    diagnosis_icd10="I10.x00",
    diagnosis_name="原发性高血压",
    treatment_advice="继续原方案并监测血压",
    doctor_signature="eyJhbGciOiJFUzI1NiJ9..sig",
)


def test_a_complete_record_passes() -> None:
    check_emr_complete(EMR)


def test_a_record_missing_the_complaint_and_signature_is_refused_naming_both() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_emr_complete(replace(EMR, chief_complaint="", doctor_signature=None))
    assert caught.value.rule_id == "REC-01"
    assert caught.value.extra["missing"] == ["chief_complaint", "doctor_signature"]


def test_a_visit_without_a_record_is_refused() -> None:
    with pytest.raises(RuleViolation):
        check_emr_complete(None)
