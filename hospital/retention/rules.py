"""The REC-02 rules the purge obeys: nothing is purged before its retention period ends. Pure."""

from __future__ import annotations

from datetime import date

from hospital.core.errors import RuleViolation
from hospital.core.retention import RetentionClass, due_for_purge, purge_not_before
from hospital.core.rule_registry import rule

# The retention classes and dates are re-exported so every retention rule is importable from here.
__all__ = ["RetentionClass", "check_purge_allowed", "check_purge_date_reached", "due_for_purge", "purge_not_before"]


@rule("REC-02", "Nothing is purged before its retention period ends", source="PD 16")
def check_purge_allowed(retention_class: RetentionClass | str, closed_on: date, today: date) -> None:
    if not due_for_purge(retention_class, closed_on, today):
        keep_until = purge_not_before(retention_class, closed_on)
        raise RuleViolation(
            "REC-02",
            f"a {RetentionClass(retention_class).value} record closed {closed_on.isoformat()} is kept "
            f"{RetentionClass(retention_class).years} years: not before {keep_until.isoformat()}",
            purge_not_before=keep_until.isoformat(),
        )


@rule("REC-02", "Nothing is purged before the date stored with it", source="PD 16")
def check_purge_date_reached(what: str, keep_until: date | None, today: date) -> None:
    """Refuse to purge a record with no purge date yet (still open) or one whose date has not come."""
    if keep_until is None:
        raise RuleViolation("REC-02", f"{what} has no purge date yet (its record is not closed): it is kept")
    if today < keep_until:
        raise RuleViolation("REC-02", f"{what} is kept until {keep_until.isoformat()}: not purged on {today.isoformat()}",
                            purge_not_before=keep_until.isoformat())
