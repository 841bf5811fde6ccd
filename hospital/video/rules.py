"""Who may hold a visit's video call, and when (REV-04, FACE-02). Pure: plain values in, errors out."""

from __future__ import annotations

from datetime import datetime

from hospital.biometrics.rules import check_fresh_verification
from hospital.core.errors import InvalidTransition
from hospital.core.rule_registry import rule

__all__ = ["CALL_STATES", "check_call_open", "check_may_resume", "doctor_join_starts_visit"]

# A call belongs to a visit the doctor accepted (接诊) and that has not ended.
CALL_STATES = frozenset({"accepted", "in_progress"})


@rule("REV-04", "A video call is held only in a visit that is accepted or in progress", source="PD 15")
def check_call_open(state: str) -> None:
    if state not in CALL_STATES:
        raise InvalidTransition(
            f"the video call of a visit that is {state} cannot be joined; only accepted or in-progress visits "
            "hold a call",
            current_state=state,
        )


def doctor_join_starts_visit(role: str, state: str) -> bool:
    """The doctor coming on camera is the start of an accepted video visit; the patient only waits."""
    return role == "doctor" and state == "accepted"


@rule("FACE-02", "A paused video consultation resumes only after the doctor verified again", source="PD 13, SP 实名认证")
def check_may_resume(role: str, paused: bool, verified_at: datetime | None, now: datetime, window_seconds: int) -> None:
    """The visit must be paused, and the doctor's verification younger than `window_seconds`."""
    if not paused:
        raise InvalidTransition("the video consultation is not paused", current_state="live")
    check_fresh_verification(role, verified_at, now, window_seconds, act="resume the consultation")
