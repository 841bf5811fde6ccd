"""The visit's state machine and the booking check (REV-06). Pure; the services store the state and call
these before changing it.

Every state and every allowed move of a visit is here, in one table, although only booking and cancelling
are booking's own moves: booking creates a visit and the encounter (above it) accepts, starts, completes and
terminates it, so the lowest of them holds the machine both use. The encounter's own rules (the prescribing
window, revisit confirmation, termination with referral) are in `visits.encounter.rules`.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from hospital.core.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    RuleViolation,
)
from hospital.core.messages import say
from hospital.core.rule_registry import rule
from hospital.institution.rules import check_department_approved

__all__ = [
    "TERMINAL_STATES",
    "TRANSITIONS",
    "QueuePlace",
    "Slot",
    "VisitAction",
    "VisitState",
    "allowed_actions",
    "check_booking",
    "check_fee",
    "next_state",
    "queue_place",
    "visit_state",
]


class VisitState(enum.StrEnum):
    REQUESTED = "requested"  # booked, waiting for the doctor
    ACCEPTED = "accepted"  # the doctor confirmed the revisit (REV-04)
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    TERMINATED = "terminated"  # ended by the doctor and referred offline (REV-04)
    CANCELLED = "cancelled"  # withdrawn before it started


class VisitAction(enum.StrEnum):
    ACCEPT = "accept"
    START = "start"
    COMPLETE = "complete"
    TERMINATE = "terminate"
    CANCEL = "cancel"


_S, _A = VisitState, VisitAction

# Every allowed move; anything absent is refused. Termination is open from every live state because
# the doctor must stop as soon as the visit turns out to be a first visit or unsuitable (PD 15).
TRANSITIONS: Mapping[tuple[VisitState, VisitAction], VisitState] = MappingProxyType(
    {
        (_S.REQUESTED, _A.ACCEPT): _S.ACCEPTED,
        (_S.REQUESTED, _A.CANCEL): _S.CANCELLED,
        (_S.REQUESTED, _A.TERMINATE): _S.TERMINATED,
        (_S.ACCEPTED, _A.START): _S.IN_PROGRESS,
        (_S.ACCEPTED, _A.CANCEL): _S.CANCELLED,
        (_S.ACCEPTED, _A.TERMINATE): _S.TERMINATED,
        (_S.IN_PROGRESS, _A.COMPLETE): _S.COMPLETED,
        (_S.IN_PROGRESS, _A.TERMINATE): _S.TERMINATED,
    }
)
TERMINAL_STATES = frozenset(s for s in VisitState if not any(k[0] is s for k in TRANSITIONS))


def visit_state(value: VisitState | str) -> VisitState:
    """`value` as a state; InvalidInput for anything that is not one."""
    try:
        return VisitState(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a visit state") from None


def allowed_actions(current: VisitState | str) -> tuple[VisitAction, ...]:
    state = visit_state(current)
    return tuple(action for (s, action) in TRANSITIONS if s is state)


def next_state(current: VisitState | str, action: VisitAction | str) -> VisitState:
    """The state after `action`, or InvalidTransition naming the current state and what it allows."""
    state = visit_state(current)
    try:
        move = VisitAction(action)
    except ValueError:
        raise InvalidInput(f"{action!r} is not a visit action") from None
    target = TRANSITIONS.get((state, move))
    if target is None:
        allowed = ", ".join(a.value for a in allowed_actions(state)) or "nothing (final state)"
        raise InvalidTransition(
            f"cannot {move.value} a visit that is {state.value}; from {state.value} it allows: {allowed}",
            current_state=state.value,
        )
    return target


@dataclass(frozen=True, slots=True)
class Slot:
    """A published consultation period of one department (REV-06); times are timezone-aware."""

    department_code: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int


@rule("REV-06", "A booking takes a free place in a future slot of an approved department", source="PD 15; GD 四(二)")
def check_booking(
    slot: Slot, *, now: datetime, approved_department_codes: Collection[str], patient_bookings_in_slot: int
) -> None:
    """Refuse a past slot, an unapproved department, a full slot or a second active booking in one slot."""
    if now.tzinfo is None or slot.starts_at.tzinfo is None or slot.ends_at.tzinfo is None:
        raise InvalidInput("booking times must carry a time zone")
    if slot.capacity < 1 or slot.ends_at <= slot.starts_at:
        raise InvalidInput("a slot needs a capacity of at least 1 and an end after its start")
    if slot.starts_at <= now:
        raise RuleViolation("REV-06", say("booking.slot_past", starts_at=slot.starts_at.isoformat()))
    check_department_approved(slot.department_code, approved_department_codes)  # INS-02: 一级科目 covers 二级科目
    if patient_bookings_in_slot > 0:
        raise Conflict(say("booking.already_booked"), rule_id="REV-06")
    if slot.booked >= slot.capacity:
        raise Conflict(say("booking.slot_full", booked=slot.booked, capacity=slot.capacity), rule_id="REV-06")


@rule("INS-03", "A visit is booked at its mode's published fee, shown to the patient and accepted",
      source="PD 12; GD 四(二)")
def check_fee(mode: str, *, published: Mapping[str, str], shown_cny: str, accepted: bool) -> str:
    """The published fee of `mode` (the disclosure's fee table, the one source of prices), which must be the fee
    the patient was shown (`shown_cny`) and accepted; a stale page or a client's own price is refused."""
    fee = published.get(mode)
    if fee is None:
        raise RuleViolation("INS-03", f"no fee is published for {mode!r} visits, so they cannot be booked")
    if not shown_cny.strip():
        raise RuleViolation("INS-03", f"a booking names the fee shown to the patient (¥{fee} for a {mode} visit) "
                                      "and their acceptance of it", published_fee_cny=fee)
    try:
        shown = Decimal(shown_cny)
    except InvalidOperation:
        raise InvalidInput("fee_cny must be a decimal amount such as '30.00'") from None
    if not shown.is_finite() or shown != Decimal(fee):
        raise RuleViolation("INS-03", say("booking.fee_changed", shown=shown_cny, mode=mode, fee=fee),
                            published_fee_cny=fee)
    if not accepted:
        raise RuleViolation("INS-03", say("booking.fee_not_accepted", fee=fee), published_fee_cny=fee)
    return fee


@dataclass(frozen=True, slots=True)
class QueuePlace:
    """Where a waiting visit stands in its schedule's queue (REV-06), recomputed at every read so that it moves
    as the visits before it move. `position` is 1 + the visits before it that the doctor has not yet taken
    (接诊: accepted, started); `ahead` counts every visit before it not yet ended (taken ones included)."""

    position: int
    ahead: int
    with_doctor_ahead: int  # visits before it taken by the doctor and not yet ended


_OPEN = frozenset({VisitState.REQUESTED, VisitState.ACCEPTED, VisitState.IN_PROGRESS})
_TAKEN = frozenset({VisitState.ACCEPTED, VisitState.IN_PROGRESS})


def queue_place(queue_number: int, state: str, schedule_visits: Collection[tuple[int, str]]) -> QueuePlace | None:
    """The place of the visit numbered `queue_number` among its schedule's `(queue_number, state)` pairs; None
    once the visit itself is taken, started or ended (it no longer waits)."""
    if state != VisitState.REQUESTED:
        return None
    before = [s for n, s in schedule_visits if n < queue_number and s in _OPEN]
    taken = sum(s in _TAKEN for s in before)
    return QueuePlace(position=len(before) - taken + 1, ahead=len(before), with_doctor_ahead=taken)
