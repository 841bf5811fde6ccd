"""Ratings, complaints and adverse events (QA-01). Pure."""

from __future__ import annotations

import enum
from datetime import date

from hospital.core.errors import InvalidTransition, RuleViolation
from hospital.core.rule_registry import rule

__all__ = ["AdverseEventKind", "ComplaintCategory", "ComplaintStatus", "Severity", "check_adverse_event",
           "check_complaint", "check_complaint_response", "check_rating"]

RATEABLE_STATES = frozenset({"completed", "terminated"})


class ComplaintCategory(enum.StrEnum):
    SERVICE = "service"  # 服务态度、流程
    MEDICAL = "medical"  # 诊疗质量
    FEE = "fee"  # 费用
    PRIVACY = "privacy"  # 个人信息
    PRESCRIPTION = "prescription"  # 处方与药品配送
    OTHER = "other"


class ComplaintStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISPUTE = "dispute"  # escalated to a medical dispute (医疗纠纷), reported daily by pushMedicalDispute


class AdverseEventKind(enum.StrEnum):
    MEDICAL = "medical"  # 医疗不良事件
    DRUG = "drug"  # 药品不良反应/事件


class Severity(enum.StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"
    DEATH = "death"


@rule("QA-01", "A patient rates a visit once, after it ended, with a score from 1 to 5", source="PD 18, SP 综合评价")
def check_rating(visit_state: str, score: int, already_rated: bool) -> None:
    if visit_state not in RATEABLE_STATES:
        raise RuleViolation("QA-01", f"a visit can be rated once it has ended; this one is {visit_state}")
    if already_rated:
        raise RuleViolation("QA-01", "this visit has already been rated")
    if not 1 <= score <= 5:
        raise RuleViolation("QA-01", "the score must be from 1 to 5")


@rule("QA-01", "A complaint names its category and says what happened", source="PD 18, SP 监督执法")
def check_complaint(category: str, description: str) -> ComplaintCategory:
    try:
        parsed = ComplaintCategory(category)
    except ValueError as exc:
        raise RuleViolation("QA-01", f"category must be one of {[c.value for c in ComplaintCategory]}") from exc
    if len(description.strip()) < 5:
        raise RuleViolation("QA-01", "describe what happened (at least 5 characters)")
    return parsed


@rule("QA-01", "An open complaint is answered once, resolved or escalated to a dispute", source="PD 18")
def check_complaint_response(current: str, outcome: str, response: str) -> ComplaintStatus:
    if current != ComplaintStatus.OPEN:
        raise InvalidTransition(f"the complaint is already {current}", current_state=current, rule_id="QA-01")
    if outcome not in (ComplaintStatus.RESOLVED, ComplaintStatus.DISPUTE):
        raise RuleViolation("QA-01", "the outcome is 'resolved' or 'dispute'")
    if len(response.strip()) < 5:
        raise RuleViolation("QA-01", "the response to the patient must say what was done")
    return ComplaintStatus(outcome)


@rule("QA-01", "Adverse events (医疗/药品不良事件) are reported with kind, severity, date and description",
      source="PD 18, SP 规范用药 (药品不良事件上报)")
def check_adverse_event(kind: str, severity: str, occurred_on: date, today: date, description: str,
                        drug_code: str | None) -> tuple[AdverseEventKind, Severity]:
    try:
        parsed_kind, parsed_severity = AdverseEventKind(kind), Severity(severity)
    except ValueError as exc:
        raise RuleViolation("QA-01", "kind is medical or drug; severity is mild, moderate, severe or death") from exc
    if occurred_on > today:
        raise RuleViolation("QA-01", "the event cannot have happened in the future")
    if parsed_kind is AdverseEventKind.DRUG and not drug_code:
        raise RuleViolation("QA-01", "a drug adverse event names the suspected drug")
    if len(description.strip()) < 5:
        raise RuleViolation("QA-01", "describe the event (at least 5 characters)")
    return parsed_kind, parsed_severity
