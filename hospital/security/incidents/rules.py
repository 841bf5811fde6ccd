"""The security-incident procedure (SEC-02). Pure: plain values in, a stage or a refusal out.

An incident, found by the scan (`hospital.security.detection`) or recorded by a person, is open until
contained; a leak, suspected or confirmed, must be reported to the authorities the reviewed table names
(卫生健康行政部门 always; 网信 and 公安 when personal information is involved) by its deadline; it closes only
when contained, reported (if a leak) and reviewed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hospital.core.errors import InvalidTransition, RuleViolation
from hospital.core.rule_registry import rule

__all__ = ["SOURCE", "Authority", "IncidentKind", "IncidentSeverity", "IncidentStatus", "Leak",
           "check_account_action", "check_assessment", "check_close", "check_containment", "check_new_incident",
           "check_open", "check_report", "is_overdue", "missing_reports", "parse_severity", "report_deadline",
           "required_authorities", "stage_of"]

SOURCE = "PD 11, GD 四(三), MS 第十条/第十四条"


class IncidentKind(enum.StrEnum):
    BULK_ACCESS = "bulk_access"  # one account read many patients' records: a suspected leak
    AUDIT_TAMPERING = "audit_tampering"  # the audit chain is broken (AUD-01)
    CREDENTIAL_STUFFING = "credential_stuffing"  # failed log-ins to many accounts from one address
    FACE_LOCKOUT = "face_lockout"  # a clinician's face verification locked (FACE-04)
    DATA_LEAK = "data_leak"  # reported by a person: data left the hospital
    OTHER = "other"


class IncidentSeverity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IncidentStatus(enum.StrEnum):
    OPEN = "open"
    CONTAINED = "contained"
    REPORTED = "reported"  # contained, and every report the leak needs is made
    CLOSED = "closed"


class Leak(enum.StrEnum):
    NONE = "none"
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"


@dataclass(frozen=True, slots=True)
class Authority:
    code: str
    name_zh: str
    name_en: str
    reported_when: str  # leak | personal_information
    source: str


def parse_severity(severity: str) -> IncidentSeverity:
    try:
        return IncidentSeverity(severity)
    except ValueError as exc:
        raise RuleViolation("SEC-02", f"severity is one of {[s.value for s in IncidentSeverity]}") from exc


@rule("SEC-02", "A leak is reported at once: the deadline runs from when the hospital first knew of it "
      "(立即, GD 四(三); 及时, PD 11)", source="PD 11, GD 四(三)")
def report_deadline(leak: Leak, known_at: datetime, hours: float) -> datetime | None:
    return None if leak is Leak.NONE else known_at + timedelta(hours=hours)


def is_overdue(report_due_at: datetime | None, reported_at: datetime | None, now: datetime) -> bool:
    return report_due_at is not None and reported_at is None and now > report_due_at


@rule("SEC-02", "A leak is reported to the health administration; one involving personal information also to 网信 "
      "and 公安 (the reviewed authorities table)", source="PD 11, GD 四(三)")
def required_authorities(leak: Leak, personal_information: bool,
                         authorities: Sequence[Authority]) -> tuple[Authority, ...]:
    if leak is Leak.NONE:
        return ()
    return tuple(a for a in authorities
                 if a.reported_when == "leak" or (personal_information and a.reported_when == "personal_information"))


def missing_reports(required: Sequence[Authority], reported_codes: Iterable[str]) -> tuple[str, ...]:
    done = set(reported_codes)
    return tuple(a.code for a in required if a.code not in done)


def stage_of(*, contained: bool, reporting_required: bool, reports_complete: bool, closed: bool) -> IncidentStatus:
    """The furthest stage reached in order: open → contained → reported (a leak only) → closed."""
    if closed:
        return IncidentStatus.CLOSED
    if not contained:
        return IncidentStatus.OPEN
    return IncidentStatus.REPORTED if reporting_required and reports_complete else IncidentStatus.CONTAINED


def _not_closed(status: str) -> None:
    if status == IncidentStatus.CLOSED:
        raise InvalidTransition("the incident is closed; open a new one for anything new", current_state=status,
                                rule_id="SEC-02")


@rule("SEC-02", "An incident opened by a person names its kind, severity, what happened and when it was detected",
      source=SOURCE)
def check_new_incident(kind: str, severity: str, leak: str, summary: str, detected_at: datetime, now: datetime,
                       affected_subjects: int) -> tuple[IncidentKind, IncidentSeverity, Leak]:
    try:
        parsed = IncidentKind(kind), IncidentSeverity(severity), Leak(leak)
    except ValueError as exc:
        raise RuleViolation("SEC-02", f"kind is one of {[k.value for k in IncidentKind]}, severity one of "
                                      f"{[s.value for s in IncidentSeverity]}, leak one of "
                                      f"{[v.value for v in Leak]}") from exc
    if len(summary.strip()) < 5:
        raise RuleViolation("SEC-02", "say what happened (at least 5 characters)")
    if detected_at > now:
        raise RuleViolation("SEC-02", "an incident cannot be detected in the future")
    if affected_subjects < 0:
        raise RuleViolation("SEC-02", "the number of people affected cannot be negative")
    return parsed


@rule("SEC-02", "A closed incident takes no further steps", source=SOURCE)
def check_open(status: str) -> None:
    _not_closed(status)


@rule("SEC-02", "An assessment says whether data leaked; a leak already reported cannot be ruled out afterwards",
      source=SOURCE)
def check_assessment(status: str, leak: str, reported_any: bool, note: str) -> Leak:
    _not_closed(status)
    try:
        parsed = Leak(leak)
    except ValueError as exc:
        raise RuleViolation("SEC-02", f"leak is one of {[v.value for v in Leak]}") from exc
    if parsed is Leak.NONE and reported_any:
        raise RuleViolation("SEC-02", "this leak is already reported to the authorities; it cannot be ruled out here "
                                      "(tell them, and note it on the timeline)")
    if len(note.strip()) < 5:
        raise RuleViolation("SEC-02", "say what the assessment rests on (at least 5 characters)")
    return parsed


@rule("SEC-02", "Containment is recorded once, saying what stopped the incident", source=SOURCE)
def check_containment(status: str, contained: bool, note: str) -> None:
    _not_closed(status)
    if contained:
        raise InvalidTransition("the incident is already contained", current_state=status, rule_id="SEC-02")
    if len(note.strip()) < 5:
        raise RuleViolation("SEC-02", "say what was done to contain it (at least 5 characters)")


@rule("SEC-02", "An account involved in an incident is suspended or restored by another administrator, once",
      source=SOURCE)
def check_account_action(action: str, actor_user_id: str | None, target_user_id: str | None, target_locked: bool,
                         status: str) -> None:
    if action == "suspend_account":
        _not_closed(status)  # restoring stays possible after closing: an account is never left locked for good
    if action not in ("suspend_account", "restore_account"):
        raise RuleViolation("SEC-02", "the account actions are suspend_account and restore_account")
    if target_user_id is None:
        raise RuleViolation("SEC-02", "name the account (account_user_id): this incident involves none")
    if action == "suspend_account" and target_user_id == actor_user_id:
        raise RuleViolation("SEC-02", "an administrator does not suspend their own account: another one does")
    if action == "suspend_account" and target_locked:
        raise InvalidTransition("the account is already suspended", current_state="suspended", rule_id="SEC-02")
    if action == "restore_account" and not target_locked:
        raise InvalidTransition("the account is not suspended", current_state="active", rule_id="SEC-02")


@rule("SEC-02", "A report names authorities from the table, when it was made (not in the future) and its reference",
      source="PD 11, GD 四(三)")
def check_report(status: str, codes: Sequence[str], authorities: Sequence[Authority], reported_at: datetime,
                 now: datetime, reference: str) -> tuple[str, ...]:
    _not_closed(status)
    known = {a.code for a in authorities}
    unknown = sorted(set(codes) - known)
    if not codes or unknown:
        raise RuleViolation("SEC-02", f"name the authorities reported to, from {sorted(known)}"
                                      + (f"; unknown: {unknown}" if unknown else ""))
    if reported_at > now:
        raise RuleViolation("SEC-02", "a report cannot be made in the future")
    if not reference.strip():
        raise RuleViolation("SEC-02", "give the report's reference (文号, 受理编号, or who took the call)")
    return tuple(dict.fromkeys(codes))


@rule("SEC-02", "An incident closes only once contained, reported to every authority a leak needs, and reviewed",
      source="PD 11, GD 四(三)")
def check_close(status: str, leak: Leak, contained: bool, missing: Sequence[str], review: str) -> None:
    _not_closed(status)
    if not contained:
        raise RuleViolation("SEC-02", "an incident is contained before it is closed")
    if leak is not Leak.NONE and missing:
        raise RuleViolation("SEC-02", f"a {leak.value} leak is reported before the incident closes; not yet reported "
                                      f"to: {', '.join(missing)}", missing_authorities=list(missing))
    if len(review.strip()) < 10:
        raise RuleViolation("SEC-02", "the review says what happened, why, and what changes (at least 10 characters)")

