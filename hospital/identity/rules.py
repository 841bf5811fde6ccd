"""Log-in rules: a rate limit per address, lockout after repeated failures, password strength. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta

from hospital.core.errors import LockedOut, NotAuthenticated, RuleViolation, TooManyAttempts
from hospital.core.messages import say
from hospital.core.rule_registry import rule

__all__ = ["check_login_rate", "check_not_locked", "check_password_strength", "check_session_current",
           "check_session_renewable", "failure_locks"]


@rule("SEC-01", "An address gets a limited number of log-in attempts a minute, counted across every replica",
      source="MS 信息使用; PD 10")
def check_login_rate(attempts_in_window: int, per_window: int, retry_after: int) -> None:
    """`attempts_in_window` counts this attempt too: the one past `per_window` is refused until the window ends."""
    if attempts_in_window > per_window:
        raise TooManyAttempts("SEC-01", say("identity.too_many_attempts", retry_after=retry_after),
                              retry_after=retry_after)


@rule("SEC-01", "A locked account cannot log in until its lock expires", source="MS 信息使用; PD 10")
def check_not_locked(locked_until: datetime | None, now: datetime) -> None:
    if locked_until is not None and locked_until > now:
        raise LockedOut("SEC-01", "too many failed log-ins; the account is locked", locked_until=locked_until)


def failure_locks(failures_after_this: int, max_failures: int, now: datetime, lock_seconds: int) -> datetime | None:
    """The time the account is locked until, if this failure reaches the limit."""
    return now + timedelta(seconds=lock_seconds) if failures_after_this >= max_failures else None


@rule("SEC-01", "Passwords have at least 8 characters with letters and digits", source="MS 信息使用")
def check_password_strength(password: str) -> None:
    if len(password) < 8 or not any(c.isdigit() for c in password) or not any(c.isalpha() for c in password):
        raise RuleViolation("SEC-01", "the password needs at least 8 characters, with letters and digits")


@rule("SEC-01", "A session is renewed only within its maximum length from the password log-in", source="MS 信息使用")
def check_session_renewable(authenticated_at: datetime | None, now: datetime, max_seconds: int) -> None:
    if authenticated_at is None or now - authenticated_at >= timedelta(seconds=max_seconds):
        raise NotAuthenticated("the session has reached its maximum length; log in again", rule_id="SEC-01")


@rule("SEC-01", "A token is good only while its log-in session is open, it is the session's current token, and the "
      "account is active and unlocked: a log-out, lock, suspension, password change or renewal ends it at once",
      source="MS 信息使用; PD 10")
def check_session_current(*, found: bool, ended_reason: str | None, current: bool, active: bool,
                          locked_until: datetime | None, now: datetime) -> None:
    if not found:
        raise NotAuthenticated("the token belongs to no session; log in again", rule_id="SEC-01")
    if ended_reason is not None:
        raise NotAuthenticated(f"the session has ended ({ended_reason}); log in again", rule_id="SEC-01",
                               reason=ended_reason)
    if not current:
        raise NotAuthenticated("the token was replaced by a renewed one", rule_id="SEC-01", reason="replaced")
    if not active:
        raise NotAuthenticated("the account is suspended", rule_id="SEC-01", reason="suspended")
    if locked_until is not None and locked_until > now:
        raise NotAuthenticated("the account is locked", rule_id="SEC-01", reason="locked")
