"""The visit state machine, termination, prescribing and booking (REV-04, REV-06, INS-02, RX-01)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from hospital.core.errors import Conflict, InvalidInput, InvalidTransition, RuleViolation
from hospital.core.rule_registry import Severity
from hospital.visits.booking.rules import (
    TERMINAL_STATES,
    TRANSITIONS,
    Slot,
    VisitAction,
    VisitState,
    allowed_actions,
    check_booking,
    next_state,
)
from hospital.visits.encounter.rules import (
    PRESCRIBING_STATES,
    Referral,
    TerminationReason,
    check_may_prescribe,
    check_revisit_confirmed,
    check_termination,
)

pytestmark = pytest.mark.requirement("REV-04", "REV-06", "RX-01", "INS-02")

ILLEGAL = [pair for pair in itertools.product(VisitState, VisitAction) if pair not in TRANSITIONS]
NOW = datetime(2025, 6, 15, 9, 0, tzinfo=UTC)
REFERRAL = Referral("上海市浦东新区人民医院", "心内科门诊", "尽快线下就诊并完善心电图检查")


@pytest.mark.parametrize(("state", "action"), ILLEGAL, ids=[f"{s.value}-{a.value}" for s, a in ILLEGAL])
def test_every_illegal_transition_is_refused_naming_the_current_state(state: VisitState, action: VisitAction) -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_state(state, action)
    assert caught.value.current_state == state.value
    assert f"is {state.value}" in caught.value.detail


@pytest.mark.parametrize(("move", "target"), list(TRANSITIONS.items()), ids=lambda v: str(v))
def test_every_listed_transition_is_allowed(move: tuple[VisitState, VisitAction], target: VisitState) -> None:
    assert next_state(*move) is target


def test_the_happy_path_runs_from_request_to_completion() -> None:
    state = VisitState.REQUESTED
    for action in ("accept", "start", "complete"):
        state = next_state(state, action)
    assert state is VisitState.COMPLETED


def test_a_visit_can_be_terminated_from_every_live_state() -> None:
    live = set(VisitState) - TERMINAL_STATES
    assert live == {VisitState.REQUESTED, VisitState.ACCEPTED, VisitState.IN_PROGRESS}
    assert all(next_state(state, "terminate") is VisitState.TERMINATED for state in live)


def test_final_states_allow_nothing() -> None:
    assert {VisitState.COMPLETED, VisitState.TERMINATED, VisitState.CANCELLED} == TERMINAL_STATES
    assert all(allowed_actions(state) == () for state in TERMINAL_STATES)


def test_unknown_states_and_actions_are_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        next_state("paused", "start")
    with pytest.raises(InvalidInput):
        next_state("accepted", "pause")


@pytest.mark.parametrize("state", list(VisitState))
def test_prescribing_is_allowed_only_in_accepted_or_running_visits(state: VisitState) -> None:
    if state in PRESCRIBING_STATES:
        check_may_prescribe(state)
    else:
        with pytest.raises(InvalidTransition) as caught:
            check_may_prescribe(state)
        assert caught.value.current_state == state.value
        assert caught.value.rule_id == "RX-01"


def test_accepting_needs_the_doctor_to_confirm_the_revisit() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_revisit_confirmed(False)
    assert caught.value.rule_id == "REV-04"
    check_revisit_confirmed(True)


@pytest.mark.parametrize("reason", [r for r in TerminationReason if r.requires_referral])
def test_a_doctor_ending_a_visit_must_refer_the_patient(reason: TerminationReason) -> None:
    with pytest.raises(RuleViolation) as caught:
        check_termination(reason, None)
    assert caught.value.rule_id == "REV-04"
    assert reason.value in caught.value.detail
    check_termination(reason, REFERRAL)


def test_a_referral_without_advice_is_not_a_referral() -> None:
    with pytest.raises(RuleViolation):
        check_termination("first_visit_discovered", Referral("某医院", "内科", " "))


def test_a_patient_may_end_a_visit_without_referral() -> None:
    assert check_termination("patient_request", None) == []


def test_a_suspected_infection_termination_asks_for_the_report() -> None:
    findings = check_termination(TerminationReason.SUSPECTED_INFECTIOUS, REFERRAL)
    assert [(f.rule_id, f.severity) for f in findings] == [("REV-04", Severity.WARN)]


def test_an_unknown_termination_reason_is_refused() -> None:
    with pytest.raises(RuleViolation):
        check_termination("bored", REFERRAL)


def slot(**changes: object) -> Slot:
    values: dict[str, object] = {
        "department_code": "03.04",
        "starts_at": NOW + timedelta(hours=2),
        "ends_at": NOW + timedelta(hours=3),
        "capacity": 10,
        "booked": 3,
    }
    values.update(changes)
    return Slot(**values)  # type: ignore[arg-type]


def book(s: Slot, *, approved: frozenset[str] = frozenset({"03"}), held: int = 0) -> None:
    check_booking(s, now=NOW, approved_department_codes=approved, patient_bookings_in_slot=held)


def test_a_free_future_slot_of_an_approved_department_can_be_booked() -> None:
    book(slot())


def test_a_slot_that_has_started_cannot_be_booked() -> None:
    with pytest.raises(RuleViolation) as caught:
        book(slot(starts_at=NOW))
    assert caught.value.rule_id == "REV-06"


def test_a_slot_of_a_department_not_on_the_licence_cannot_be_booked() -> None:
    with pytest.raises(RuleViolation) as caught:
        book(slot(department_code="10"))
    assert caught.value.rule_id == "INS-02"


def test_a_specialty_licence_does_not_cover_its_parent_department() -> None:
    with pytest.raises(RuleViolation):
        book(slot(department_code="03"), approved=frozenset({"03.04"}))


def test_a_full_slot_cannot_be_booked() -> None:
    with pytest.raises(Conflict) as caught:
        book(slot(booked=10))
    assert caught.value.extra["rule_id"] == "REV-06"


def test_a_patient_cannot_hold_two_bookings_in_one_slot() -> None:
    with pytest.raises(Conflict) as caught:
        book(slot(), held=1)
    assert "already" in caught.value.detail


def test_booking_times_must_carry_a_time_zone() -> None:
    with pytest.raises(InvalidInput):
        book(slot(starts_at=datetime(2025, 6, 16, 9, 0), ends_at=datetime(2025, 6, 16, 10, 0)))
