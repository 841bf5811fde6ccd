"""The outpatient record of a visit (REC-01). Pure. How long it is kept is `hospital.core.retention`'s (REC-02)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from hospital.core.errors import RuleViolation
from hospital.core.rule_registry import rule

__all__ = ["OnlineEmr", "check_emr_complete"]


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
