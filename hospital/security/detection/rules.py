"""Leak detection (SEC-02). Pure: facts from the audit trail in, findings out.

Detection reads facts the hospital already records (the audit trail) and turns each pattern into a `Detection`:
one account reading the records of many patients in a short time (a suspected leak), the audit chain broken
(tampering), failed log-ins to many accounts from one address (credential stuffing), a clinician's face
verification locked (someone may be trying to act in their name). A detection opens an incident once, in the
register of `hospital.security.incidents` (whose kinds, severities and leak levels a detection carries).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hospital.core.rule_registry import rule
from hospital.security.incidents.rules import SOURCE, IncidentKind, IncidentSeverity, Leak

__all__ = ["WINDOWED", "AccessFact", "Burst", "Detection", "KnownIncident", "LockoutFact", "bursts",
           "continues_after_close", "detect_audit_tampering", "detect_bulk_access", "detect_credential_stuffing",
           "detect_face_lockouts", "has_grown", "known_match"]

WINDOWED = frozenset({"bulk_access", "credential_stuffing"})


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


def _minutes(window: timedelta) -> int:
    return int(window.total_seconds() // 60)
