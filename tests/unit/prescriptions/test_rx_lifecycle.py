"""The pure rules of a prescription's life after signing: review, revision, dispensing, delivery (RX-06…RX-08)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import get_args

import pytest

from hospital.contracts import prescriptions as contract
from hospital.core.errors import AccessRefused, Conflict, InvalidInput, InvalidTransition, RuleViolation
from hospital.prescriptions import rules as rx
from hospital.prescriptions.dispensing.service import EVENT_COURIER, EVENT_STATUS
from hospital.prescriptions.writing.documents import valid_until

pytestmark = pytest.mark.requirement("RX-06", "RX-07", "RX-08")

DOCTOR, PHARMACIST = uuid.uuid4(), uuid.uuid4()
TODAY = date(2026, 3, 3)


def test_a_pharmacist_reviews_another_persons_prescription() -> None:
    rx.check_reviewer("pharmacist", PHARMACIST, DOCTOR)


def test_nobody_reviews_their_own_prescription() -> None:
    with pytest.raises(AccessRefused) as refused:
        rx.check_reviewer("pharmacist", PHARMACIST, PHARMACIST)
    assert refused.value.rule_id == "RX-06"


@pytest.mark.parametrize("role", ["doctor", "nurse", "admin", "patient"])
def test_only_pharmacists_review(role: str) -> None:
    with pytest.raises(AccessRefused) as refused:
        rx.check_reviewer(role, uuid.uuid4(), DOCTOR)
    assert refused.value.rule_id == "RX-06"


@pytest.mark.parametrize("status", ["approved", "rejected"])
def test_a_decided_prescription_is_not_decided_again(status: str) -> None:
    with pytest.raises(InvalidTransition) as refused:
        rx.check_reviewable(status)
    assert refused.value.current_state == status and refused.value.rule_id == "RX-06"


def test_a_rejection_needs_a_reason_and_an_approval_does_not() -> None:
    assert rx.check_decision("approve", []) is rx.ReviewDecision.APPROVE
    assert rx.check_decision("reject", ["剂量过大"], ["us_usage_dose"]) is rx.ReviewDecision.REJECT
    assert rx.check_decision("reject", [], ["ex_no_indication"]) is rx.ReviewDecision.REJECT  # notes optional
    for codes in ([], ["too_high"]):  # a note alone, or a code not in the table
        with pytest.raises(RuleViolation):
            rx.check_decision("reject", ["剂量过大"], codes)
    with pytest.raises(RuleViolation):
        rx.check_decision("approve", [], ["us_usage_dose"])
    with pytest.raises(RuleViolation) as refused:
        rx.check_decision("reject", ["  "])
    assert refused.value.rule_id == "RX-06"
    with pytest.raises(InvalidInput):
        rx.check_decision("maybe", [])


def test_only_a_rejected_version_is_revised_and_only_once() -> None:
    rx.check_revisable("rejected", already_revised=False)
    for status, revised in (("pending_review", False), ("approved", False), ("rejected", True)):
        with pytest.raises(InvalidTransition):
            rx.check_revisable(status, already_revised=revised)


@pytest.mark.requirement("RX-06")
def test_only_the_prescriber_withdraws_a_rejected_or_undecided_prescription() -> None:
    for status in ("rejected", "pending_review", "awaiting_countersign"):
        rx.check_withdrawable(status, False, prescriber_user_id=DOCTOR, user_id=DOCTOR)
    for status, revised in (("approved", False), ("voided", False), ("rejected", True)):
        with pytest.raises(InvalidTransition) as refused:
            rx.check_withdrawable(status, revised, prescriber_user_id=DOCTOR, user_id=DOCTOR)
        assert refused.value.rule_id == "RX-06"
    for someone_else in (PHARMACIST, uuid.uuid4()):
        with pytest.raises(AccessRefused) as denied:
            rx.check_withdrawable("rejected", False, prescriber_user_id=DOCTOR, user_id=someone_else)
        assert denied.value.rule_id == "RX-06"


def test_the_doctor_signs_the_draft_their_dry_run_checked() -> None:
    rx.check_signed_by_hand("a" * 64, "a" * 64, dry_run_found=True)
    for named, found in (("", True), ("b" * 64, True), ("a" * 64, False)):
        with pytest.raises(RuleViolation) as refused:
            rx.check_signed_by_hand(named, "a" * 64, dry_run_found=found)
        assert refused.value.rule_id == "RX-07"


def dispensable(status: str = "approved", *, approval: bool = True, dispensed: bool = False,
                until: date = TODAY) -> None:
    rx.check_dispensable(status, has_valid_approval=approval, already_dispensed=dispensed, valid_until=until,
                         today=TODAY)


def test_an_approved_prescription_within_its_validity_is_dispensed() -> None:
    dispensable()


@pytest.mark.parametrize("status", ["pending_review", "rejected"])
def test_an_unreviewed_or_rejected_prescription_is_never_dispensed(status: str) -> None:
    with pytest.raises(InvalidTransition) as refused:
        dispensable(status)
    assert refused.value.rule_id == "RX-06" and refused.value.current_state == status


def test_an_approved_status_without_a_valid_approval_signature_is_not_dispensed() -> None:
    with pytest.raises(RuleViolation) as refused:
        dispensable(approval=False)
    assert refused.value.rule_id == "RX-06"


def test_a_prescription_is_dispensed_once() -> None:
    with pytest.raises(Conflict):
        dispensable(dispensed=True)


def test_an_expired_prescription_is_not_dispensed() -> None:
    with pytest.raises(RuleViolation) as refused:
        dispensable(until=date(2026, 3, 2))
    assert refused.value.rule_id == "RX-03"


def test_validity_counts_the_day_of_issue() -> None:
    assert valid_until(TODAY, 1) == TODAY and valid_until(TODAY, 3) == date(2026, 3, 5)


def test_delivery_moves_forward_one_step_at_a_time_with_tracking_to_ship() -> None:
    assert rx.next_delivery_status("dispensed", "shipped", tracking_number="SF1") is rx.DispensingStatus.SHIPPED
    assert rx.next_delivery_status("shipped", "delivered", tracking_number="SF1") is rx.DispensingStatus.DELIVERED
    with pytest.raises(RuleViolation):
        rx.next_delivery_status("dispensed", "shipped", tracking_number=" ")
    for current, target in (("dispensed", "delivered"), ("delivered", "shipped"), ("shipped", "dispensed")):
        with pytest.raises(InvalidTransition):
            rx.next_delivery_status(current, target, tracking_number="SF1")


def test_a_third_party_courier_is_named_and_own_delivery_needs_no_name() -> None:
    assert rx.check_courier("own", None) == (rx.CourierKind.OWN, "本院配送")
    assert rx.check_courier("third_party", "顺丰速运") == (rx.CourierKind.THIRD_PARTY, "顺丰速运")
    with pytest.raises(RuleViolation) as refused:
        rx.check_courier("third_party", "")
    assert refused.value.rule_id == "RX-08"
    with pytest.raises(InvalidInput):
        rx.check_courier("drone", "x")


def test_the_dispensing_events_say_every_status_and_courier_in_the_rules_own_words() -> None:
    """The events carry the contract's literals (hospital/contracts/prescriptions.py), the same text the rows keep."""
    assert {s: s.value for s in rx.DispensingStatus} == EVENT_STATUS
    assert {k: k.value for k in rx.CourierKind} == EVENT_COURIER
    assert set(get_args(contract.DispensingStatus)) == set(EVENT_STATUS.values())
    assert set(get_args(contract.CourierKind)) == set(EVENT_COURIER.values())


def test_a_live_claim_is_another_pharmacists_alone_until_it_lapses_and_one_is_held_at_a_time() -> None:
    from datetime import UTC, datetime, timedelta
    now = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    until = now + timedelta(minutes=15)
    with pytest.raises(Conflict):
        rx.check_claim(PHARMACIST, DOCTOR, until, held_elsewhere=[], now=now)  # DOCTOR stands for another pharmacist
    rx.check_claim(PHARMACIST, DOCTOR, until, held_elsewhere=[], now=until)  # lapsed: claimable again
    rx.check_claim(PHARMACIST, PHARMACIST, until, held_elsewhere=[], now=now)  # their own: extended
    with pytest.raises(RuleViolation) as refused:
        rx.check_claim(PHARMACIST, None, None, held_elsewhere=["RX-1"], now=now)
    assert refused.value.rule_id == "RX-06"


def test_a_high_alert_drug_is_approved_only_with_every_item_of_its_double_check() -> None:
    every = [c.value for c in rx.DoubleCheck]
    warfarin = "B01AA03-tab-2.5mg"
    assert rx.check_high_alert_double_checks([], []) == []
    assert rx.check_high_alert_double_checks([warfarin], [(warfarin, list(reversed(every)))]) == [
        {"drug_code": warfarin, "checks": every}]
    for given in ([], [(warfarin, every[:-1])], [(warfarin, every), (warfarin, every)], [("C08CA01-tab-5mg", every)]):
        with pytest.raises(RuleViolation) as refused:
            rx.check_high_alert_double_checks([warfarin], given)
        assert refused.value.rule_id == "RX-06"


def test_a_claim_that_never_lapses_is_refused_at_start() -> None:
    from hospital.config import ConfigurationError, load_settings

    assert load_settings({}).rx_claim_minutes == 15
    load_settings({"HOSPITAL_RX_CLAIM_MINUTES": "30"}).check()
    for value in ("0", "100000"):
        with pytest.raises(ConfigurationError, match="RX-06"):
            load_settings({"HOSPITAL_RX_CLAIM_MINUTES": value}).check()
