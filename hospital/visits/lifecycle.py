"""The visit's life (REV-04, REV-06): states and allowed moves, termination with referral, prescribing
windows and booking checks. Pure; the service stores the state and calls these before changing it.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from hospital.core.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    RuleViolation,
)
from hospital.core.rule_registry import Finding, Severity, rule
from hospital.institution.rules import check_department_approved

__all__ = [
    "PRESCRIBING_STATES",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "Referral",
    "Slot",
    "TerminationReason",
    "VisitAction",
    "VisitState",
    "allowed_actions",
    "check_booking",
    "check_may_prescribe",
    "check_revisit_confirmed",
    "check_termination",
    "next_state",
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
PRESCRIBING_STATES = frozenset({VisitState.ACCEPTED, VisitState.IN_PROGRESS})


def _state(value: VisitState | str) -> VisitState:
    try:
        return VisitState(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a visit state") from None


def allowed_actions(current: VisitState | str) -> tuple[VisitAction, ...]:
    state = _state(current)
    return tuple(action for (s, action) in TRANSITIONS if s is state)


def next_state(current: VisitState | str, action: VisitAction | str) -> VisitState:
    """The state after `action`, or InvalidTransition naming the current state and what it allows."""
    state = _state(current)
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


@rule("RX-01", "Prescribing only while the doctor holds an accepted or running visit", source="PD 17")
def check_may_prescribe(current: VisitState | str) -> None:
    state = _state(current)
    if state not in PRESCRIBING_STATES:
        raise InvalidTransition(
            f"cannot prescribe in a visit that is {state.value}; only accepted or in-progress visits prescribe",
            current_state=state.value,
            rule_id="RX-01",
        )


@rule("REV-04", "The doctor confirms revisit eligibility before accepting", source="PD 15")
def check_revisit_confirmed(confirmed_by_doctor: bool) -> None:
    if not confirmed_by_doctor:
        raise RuleViolation("REV-04", "the doctor must confirm that this is a revisit before accepting the visit")


class TerminationReason(enum.StrEnum):
    """Why an online visit ends early (PD 15 终止条件)."""

    FIRST_VISIT_DISCOVERED = "first_visit_discovered"
    CONDITION_CHANGED = "condition_changed"
    CRITICAL_CONDITION = "critical_condition"
    NEEDS_PHYSICAL_EXAM = "needs_physical_exam"
    SUSPECTED_INFECTIOUS = "suspected_infectious"
    UNSUITABLE_ONLINE = "unsuitable_online"
    PATIENT_REQUEST = "patient_request"

    @property
    def requires_referral(self) -> bool:
        """Every ending the doctor decides refers the patient offline (引导患者到实体医疗机构就诊)."""
        return self is not TerminationReason.PATIENT_REQUEST


@dataclass(frozen=True, slots=True)
class Referral:
    """Where the patient is sent offline and what to do."""

    institution: str
    department: str
    advice: str
    urgent: bool = False


@rule("REV-04", "An online visit the doctor ends refers the patient offline", source="PD 15")
def check_termination(reason: TerminationReason | str, referral: Referral | None) -> list[Finding]:
    """Refuse a termination that needs a referral and has none; a suspected infection adds a report finding."""
    try:
        why = TerminationReason(reason)
    except ValueError:
        allowed = ", ".join(r.value for r in TerminationReason)
        raise RuleViolation("REV-04", f"termination reason {reason!r} is not one of: {allowed}") from None
    referred = referral is not None and bool(referral.institution.strip()) and bool(referral.advice.strip())
    if why.requires_referral and not referred:
        raise RuleViolation("REV-04", f"terminating for {why.value} requires a referral to a physical institution, with advice")
    if why is TerminationReason.SUSPECTED_INFECTIOUS:
        return [Finding("REV-04", Severity.WARN, "suspected infectious disease: file the infectious-disease report")]
    return []


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
        raise RuleViolation("REV-06", f"the slot starting {slot.starts_at.isoformat()} is not in the future")
    check_department_approved(slot.department_code, approved_department_codes)  # INS-02: 一级科目 covers 二级科目
    if patient_bookings_in_slot > 0:
        raise Conflict("the patient already holds an active booking in this slot", rule_id="REV-06")
    if slot.booked >= slot.capacity:
        raise Conflict(f"the slot is full ({slot.booked} of {slot.capacity} places taken)", rule_id="REV-06")
