"""A visit is booked at its mode's published fee, shown to the patient and accepted (INS-03): the fee rule."""

from __future__ import annotations

import pytest

from hospital.core.errors import RuleViolation
from hospital.institution.reference import consultation_fees, load_disclosure_settings
from hospital.visits.booking.rules import check_fee
from hospital.visits.intake.rules.evidence import check_prior_diagnosis_withdrawable

pytestmark = pytest.mark.requirement("INS-03")

PUBLISHED = {"text": "20.00", "video": "30.00"}


def test_the_published_fee_shown_and_accepted_is_the_fee_of_the_visit() -> None:
    assert check_fee("video", published=PUBLISHED, shown_cny="30.00", accepted=True) == "30.00"
    assert check_fee("text", published=PUBLISHED, shown_cny="20", accepted=True) == "20.00"


@pytest.mark.parametrize(("mode", "shown", "accepted"), [
    ("video", "25.00", True),  # the old schedule price, contradicting the fee table
    ("video", "20.00", True),  # the text fee for a video visit
    ("video", "", True),  # no fee shown at all
    ("video", "30.00", False),  # shown but not accepted
    ("audio", "25.00", True),  # a mode the fee table does not price
])
def test_a_fee_not_published_not_shown_or_not_accepted_is_refused(mode: str, shown: str, accepted: bool) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_fee(mode, published=PUBLISHED, shown_cny=shown, accepted=accepted)
    assert refused.value.rule_id == "INS-03"


def test_the_fee_table_prices_every_consultation_mode_once() -> None:
    fees = consultation_fees(load_disclosure_settings(None))
    assert fees == {"text": "20.00", "video": "30.00", "audio": "25.00"}


@pytest.mark.requirement("REV-01")
def test_a_prior_diagnosis_is_withdrawn_only_while_unused_and_once() -> None:
    check_prior_diagnosis_withdrawable(visits_booked_on_it=0, withdrawn=False)
    for used, withdrawn in ((1, False), (0, True)):
        with pytest.raises(RuleViolation) as refused:
            check_prior_diagnosis_withdrawable(visits_booked_on_it=used, withdrawn=withdrawn)
        assert refused.value.rule_id == "REV-01"
