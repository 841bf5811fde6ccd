"""Visit records (REC-01) and how long each kind is kept (REC-02). Pure."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import date, datetime

from hospital.core.errors import RuleViolation
from hospital.core.rule_registry import rule
from hospital.visits.dates import add_years_not_before

__all__ = [
    "OnlineEmr",
    "RetentionClass",
    "check_emr_complete",
    "check_purge_allowed",
    "check_purge_date_reached",
    "due_for_purge",
    "purge_not_before",
]


class RetentionClass(enum.StrEnum):
    """What a stored record is, for how long it must be kept (PD 16)."""

    MEDICAL_RECORD = "medical_record"  # 互联网诊疗病历记录, prescriptions, uploaded prior-diagnosis documents
    CHAT = "chat"  # 图文对话
    AUDIO_VIDEO = "audio_video"  # 音视频资料
    AUDIT_TRAIL = "audit_trail"  # kept as long as the longest record it traces (AUD-01)

    @property
    def years(self) -> int:
        return _YEARS[self]


# PD 16: medical records ≥ 15 years, chats and audio/video ≥ 3 years. The audit trail follows the records.
_YEARS = {
    RetentionClass.MEDICAL_RECORD: 15,
    RetentionClass.CHAT: 3,
    RetentionClass.AUDIO_VIDEO: 3,
    RetentionClass.AUDIT_TRAIL: 15,
}


def purge_not_before(retention_class: RetentionClass | str, closed_on: date) -> date:
    """The first day a record closed on `closed_on` may be purged: the anniversary after its full period
    (a record closed on 29 Feb waits until 1 March when that year has no 29 Feb)."""
    return add_years_not_before(closed_on, RetentionClass(retention_class).years)


def due_for_purge(retention_class: RetentionClass | str, closed_on: date, today: date) -> bool:
    return today >= purge_not_before(retention_class, closed_on)


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
