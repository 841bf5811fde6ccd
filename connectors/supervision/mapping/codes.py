"""Small conversions shared by the mappers: our values to the platform's codes."""

from __future__ import annotations

from typing import Any

__all__ = ["WORK_TYPE", "flag", "sex_code", "subject_code"]

# doctorWorkType (supervision-gateway.md): 1 doctor, 2 pharmacist, 3 nurse
WORK_TYPE = {"doctor": "1", "pharmacist": "2", "nurse": "3"}


def sex_code(sex: Any) -> str:
    """GB/T 2261.1: 1 male, 2 female, 0 unknown."""
    return {"male": "1", "female": "2", "1": "1", "2": "2"}.get(str(sex or "").lower(), "0")


def subject_code(department_code: Any) -> str:
    """The 诊疗科目 category a department belongs to ("03.03" 心血管内科专业 → "03" 内科): the platform's scope
    check compares a clinician's filed subject with the visit's, at the level a practice scope is registered."""
    return str(department_code or "").split(".", 1)[0]


def flag(value: Any) -> str:
    return "1" if value in (True, 1, "1", "true", "yes") else "0"
