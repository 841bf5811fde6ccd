"""The encounter's rules: prescribing only in an open visit (RX-01), the revisit confirmed before accepting and
termination with referral (REV-04), and the outpatient record (REC-01). Pure; the service stores the state
and calls these before changing it. The states and their moves are the booking sub-area's state machine
(`visits.booking.rules`); how long a record is kept is `hospital.core.retention`'s (REC-02).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import datetime

from hospital.core.errors import InvalidTransition, RuleViolation
from hospital.core.rule_registry import Finding, Severity, rule
from hospital.visits.booking.rules import VisitState, visit_state

__all__ = [
    "PRESCRIBING_STATES",
    "OnlineEmr",
    "Referral",
    "TerminationReason",
    "check_emr_complete",
    "check_may_prescribe",
    "check_revisit_confirmed",
    "check_termination",
]

# The states in which the doctor prescribes, writes the record and chats with the patient.
PRESCRIBING_STATES = frozenset({VisitState.ACCEPTED, VisitState.IN_PROGRESS})


@rule("RX-01", "Prescribing only while the doctor holds an accepted or running visit", source="PD 17")
def check_may_prescribe(current: VisitState | str) -> None:
    state = visit_state(current)
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
class OnlineEmr:
    """The revisit record of an online visit, with the fields 病历书写基本规范 asks of an outpatient
    复诊病历记录 (time, department, complaint, history, diagnosis, treatment, signature); findings from
    an examination are optional online, and allergies are required because the visit may prescribe."""

    visited_at: datetime | None
    department_code: str
    chief_complaint: str  # 主诉
    present_illness: str  # 病史
    allergy_history: str  # 过敏史 ("无" when none)
    diagnosis_icd10: str
    diagnosis_name: str
    treatment_advice: str  # 治疗处理意见
    doctor_signature: str | None  # the JWS over the record (RX-05)
    examination_findings: str = ""  # 必要的体格检查和辅助检查结果, as reported or uploaded
    past_history: str = ""  # 既往史; the 复诊 record asks only for the history of the present illness


_OPTIONAL = {"examination_findings", "past_history"}


@rule("REC-01", "Every visit has an outpatient-format EMR before it is completed", source="PD 16")
def check_emr_complete(emr: OnlineEmr | None) -> None:
    """Refuse a missing record or one lacking a required field, naming the fields."""
    if emr is None:
        raise RuleViolation("REC-01", "the visit has no electronic medical record")
    missing = [
        f.name
        for f in fields(emr)
        if f.name not in _OPTIONAL and (getattr(emr, f.name) is None or not str(getattr(emr, f.name)).strip())
    ]
    if missing:
        raise RuleViolation("REC-01", f"the medical record lacks: {', '.join(missing)}", missing=missing)
