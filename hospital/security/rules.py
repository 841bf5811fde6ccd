"""Leak detection and the security-incident procedure (SEC-02). Pure: plain values in, findings or a refusal out.

Detection reads facts the hospital already records (the audit trail) and turns each pattern into a `Detection`:
one account reading the records of many patients in a short time (a suspected leak), the audit chain broken
(tampering), failed log-ins to many accounts from one address (credential stuffing), a clinician's face
verification locked (someone may be trying to act in their name). A detection opens an incident once.

The procedure: an incident is open until contained; a leak, suspected or confirmed, must be reported to the
authorities the reviewed table names (卫生健康行政部门 always; 网信 and 公安 when personal information is
involved) by its deadline; it closes only when contained, reported (if a leak) and reviewed.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hospital.core.errors import InvalidTransition, RuleViolation
from hospital.core.rule_registry import rule

__all__ = ["AccessFact", "Authority", "Burst", "Detection", "IncidentKind", "IncidentSeverity", "IncidentStatus",
           "KnownIncident", "Leak", "LockoutFact", "bursts", "check_account_action", "check_assessment",
           "check_close", "check_containment", "check_new_incident", "check_open", "check_report", "continues_after_close",
           "detect_audit_tampering", "detect_bulk_access", "detect_credential_stuffing", "detect_face_lockouts",
           "has_grown", "is_overdue", "known_match", "missing_reports", "parse_severity", "report_deadline",
           "required_authorities", "stage_of"]

SOURCE = "PD 11, GD 四(三), MS 第十条/第十四条"
WINDOWED = frozenset({"bulk_access", "credential_stuffing"})


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


@dataclass(frozen=True, slots=True)
class AccessFact:
    """One audited act: `group` did it (an account, or an address), to `key` (a patient, or an account)."""

    group: str
    key: str
    at: datetime
    seq: int
    action: str = ""


@dataclass(frozen=True, slots=True)
class LockoutFact:
    audit_id: str
    user_id: str
    at: datetime
    client_address: str = ""


@dataclass(frozen=True, slots=True)
class Burst:
    group: str
    first_at: datetime
    last_at: datetime
    keys: frozenset[str]
    events: int
    actions: tuple[tuple[str, int], ...]
    first_seq: int
    last_seq: int


@dataclass(frozen=True, slots=True)
class Detection:
    kind: IncidentKind
    severity: IncidentSeverity
    fingerprint: str
    summary: str
    first_at: datetime
    last_at: datetime
    affected_subjects: int
    leak: Leak = Leak.NONE
    personal_information: bool = False
    account_user_id: str | None = None
    client_address: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def group(self) -> str:
        return self.account_user_id or self.client_address


@dataclass(frozen=True, slots=True)
class KnownIncident:
    id: str
    fingerprint: str | None
    kind: str
    group: str
    evidence_from: datetime | None
    evidence_to: datetime | None
    affected_subjects: int
    closed: bool = False
    breaks: frozenset[int] = frozenset()


def bursts(facts: Iterable[AccessFact], *, threshold: int, window: timedelta) -> list[Burst]:
    """Per group, the maximal stretches in which some `window` holds more than `threshold` distinct keys.

    A sliding window over each group's acts in time order; overlapping windows over the threshold merge into
    one burst, so a burst does not depend on where a scan starts reading (only on what it reads)."""
    by_group: dict[str, list[AccessFact]] = {}
    for fact in facts:
        by_group.setdefault(fact.group, []).append(fact)
    found: list[Burst] = []
    for group, acts in sorted(by_group.items()):
        acts.sort(key=lambda f: (f.at, f.seq))
        counts: Counter[str] = Counter()
        left = 0
        hot: list[tuple[int, int]] = []  # (first index, last index) of each window over the threshold
        for right, act in enumerate(acts):
            counts[act.key] += 1
            while act.at - acts[left].at > window:
                counts[acts[left].key] -= 1
                if not counts[acts[left].key]:
                    del counts[acts[left].key]
                left += 1
            if len(counts) > threshold:
                if hot and left <= hot[-1][1]:
                    hot[-1] = (hot[-1][0], right)
                else:
                    hot.append((left, right))
        for start, end in hot:
            span = acts[start:end + 1]
            found.append(Burst(group, span[0].at, span[-1].at, frozenset(a.key for a in span), len(span),
                               tuple(sorted(Counter(a.action for a in span).items())), span[0].seq, span[-1].seq))
    return found


@rule("SEC-02", "One account reading the records of more patients than the threshold within the window is a "
      "suspected leak", source=SOURCE)
def detect_bulk_access(reads: Iterable[AccessFact], *, threshold: int, window: timedelta) -> list[Detection]:
    detections = []
    for burst in bursts(reads, threshold=threshold, window=window):
        detections.append(Detection(
            kind=IncidentKind.BULK_ACCESS, severity=IncidentSeverity.HIGH,
            fingerprint=f"bulk_access:{burst.group}:{burst.first_at.isoformat()}",
            summary=(f"one account read the records of {len(burst.keys)} patients within "
                     f"{_minutes(window)} minutes (threshold {threshold})"),
            first_at=burst.first_at, last_at=burst.last_at, affected_subjects=len(burst.keys),
            leak=Leak.SUSPECTED, personal_information=True, account_user_id=burst.group,
            evidence={"patients": sorted(burst.keys), "reads": burst.events, "actions": dict(burst.actions),
                      "audit_seqs": [burst.first_seq, burst.last_seq], "threshold": threshold,
                      "window_minutes": _minutes(window)}))
    return detections


@rule("SEC-02", "Failed log-ins to more accounts than the threshold from one address within the window are "
      "credential stuffing", source=SOURCE)
def detect_credential_stuffing(failures: Iterable[AccessFact], *, threshold: int,
                               window: timedelta) -> list[Detection]:
    detections = []
    for burst in bursts(failures, threshold=threshold, window=window):
        detections.append(Detection(
            kind=IncidentKind.CREDENTIAL_STUFFING, severity=IncidentSeverity.MEDIUM,
            fingerprint=f"credential_stuffing:{burst.group}:{burst.first_at.isoformat()}",
            summary=(f"failed log-ins to {len(burst.keys)} accounts from {burst.group} within "
                     f"{_minutes(window)} minutes (threshold {threshold})"),
            first_at=burst.first_at, last_at=burst.last_at, affected_subjects=len(burst.keys),
            client_address=burst.group,
            evidence={"accounts": sorted(burst.keys), "attempts": burst.events,
                      "audit_seqs": [burst.first_seq, burst.last_seq], "threshold": threshold,
                      "window_minutes": _minutes(window)}))
    return detections


@rule("SEC-02", "A break in the audit chain (an edited, inserted or deleted entry) is an incident, once per break",
      source=f"{SOURCE}; AUD-01")
def detect_audit_tampering(breaks: Sequence[tuple[int, str]], known_seqs: Iterable[int],
                           now: datetime) -> Detection | None:
    known = set(known_seqs)
    new = [(seq, reason) for seq, reason in breaks if seq not in known]
    if not new:
        return None
    return Detection(
        kind=IncidentKind.AUDIT_TAMPERING, severity=IncidentSeverity.CRITICAL,
        fingerprint=f"audit_tampering:{new[0][0]}",
        summary=f"the audit chain is broken at {len(new)} entr{'y' if len(new) == 1 else 'ies'}, first at #{new[0][0]}",
        first_at=now, last_at=now, affected_subjects=0,
        evidence={"breaks": [{"seq": seq, "reason": reason} for seq, reason in new]})


@rule("SEC-02", "A clinician's face verification locked after repeated failures is an incident (someone may act in "
      "their name)", source=f"{SOURCE}; FACE-04")
def detect_face_lockouts(lockouts: Iterable[LockoutFact]) -> list[Detection]:
    return [Detection(
        kind=IncidentKind.FACE_LOCKOUT, severity=IncidentSeverity.LOW, fingerprint=f"face_lockout:{lock.audit_id}",
        summary="a clinician's face verification was locked after repeated failures",
        first_at=lock.at, last_at=lock.at, affected_subjects=0, account_user_id=lock.user_id,
        client_address=lock.client_address, evidence={"audit_id": lock.audit_id}) for lock in lockouts]


@rule("SEC-02", "The same finding opens one incident: the same fingerprint, break, or a window overlapping a known "
      "incident of the same kind and account or address", source=SOURCE)
def known_match(detection: Detection, known: Iterable[KnownIncident]) -> KnownIncident | None:
    """The incident this detection was already found as (the latest, when a finding went on after one closed)."""
    matches = []
    for incident in known:
        if incident.fingerprint == detection.fingerprint:
            matches.append(incident)
        elif incident.kind != detection.kind:
            continue
        elif detection.kind == IncidentKind.AUDIT_TAMPERING:
            seqs = {b["seq"] for b in detection.evidence.get("breaks", [])}
            if seqs and seqs <= incident.breaks:
                matches.append(incident)
        elif (detection.kind in WINDOWED and incident.group == detection.group
              and incident.evidence_from is not None and incident.evidence_to is not None
              and incident.evidence_from <= detection.last_at and detection.first_at <= incident.evidence_to):
            matches.append(incident)
    return max(matches, key=lambda i: (i.evidence_to is not None, i.evidence_to or detection.last_at), default=None)


def continues_after_close(detection: Detection, match: KnownIncident) -> bool:
    """A burst that went on after its incident was closed is a new incident, not a footnote to a closed one."""
    return (match.closed and detection.kind in WINDOWED and match.evidence_to is not None
            and detection.last_at > match.evidence_to)


def has_grown(detection: Detection, match: KnownIncident) -> bool:
    """A burst still going on reached more people than its (unfinished) incident says."""
    return not match.closed and detection.kind in WINDOWED and detection.affected_subjects > match.affected_subjects


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


def _minutes(window: timedelta) -> int:
    return int(window.total_seconds() // 60)
