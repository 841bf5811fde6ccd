"""Institution rules: the licence must be in force for internet diagnosis (INS-01); only approved
departments take visits (INS-02). Pure."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from hospital.core.errors import RuleViolation, ServiceStopped
from hospital.core.rule_registry import rule

__all__ = ["INTERNET_DIAGNOSIS", "LicenceFacts", "check_department_approved", "check_licence_in_force",
           "check_service_open", "department_covers"]

INTERNET_DIAGNOSIS = "互联网诊疗"


@dataclass(frozen=True, slots=True)
class LicenceFacts:
    licence_number: str
    valid_from: date
    valid_until: date
    service_modes: tuple[str, ...]


@rule("INS-01", "The licence is present, in force and lists 互联网诊疗 as a service mode", source="PD 4-5, 7")
def check_licence_in_force(licence: LicenceFacts | None, today: date) -> LicenceFacts:
    if licence is None:
        raise ServiceStopped("INS-01", "the hospital has no licence on record; clinical work is refused")
    if INTERNET_DIAGNOSIS not in licence.service_modes:
        raise ServiceStopped("INS-01", f"licence {licence.licence_number} does not list {INTERNET_DIAGNOSIS}")
    if today < licence.valid_from:
        raise ServiceStopped("INS-01", f"licence {licence.licence_number} is not valid before {licence.valid_from}")
    if today > licence.valid_until:
        raise ServiceStopped("INS-01", f"licence {licence.licence_number} expired on {licence.valid_until}; "
                                       "clinical work is refused until it is renewed")
    return licence


def department_covers(approved: str, needed: str) -> bool:
    """An approved 一级科目 ("03") covers its 二级科目 ("03.04"); a 二级科目 covers only itself (INS-02)."""
    return needed == approved or needed.startswith(approved + ".")


@rule("INS-02", "Only departments (诊疗科目) approved on the licence take visits", source="PD 7-8")
def check_department_approved(department_code: str, approved_codes: Collection[str]) -> None:
    """Refuse a department that no approved code covers (an approved 一级科目 covers its 二级科目)."""
    if not any(department_covers(approved, department_code) for approved in approved_codes):
        raise RuleViolation("INS-02", f"department {department_code} is not approved on the hospital's licence")


@rule("QA-02", "Clinical service stops while the hospital has stopped it (staff or facilities fall short)",
      source="PD 18")
def check_service_open(stop_reason: str | None) -> None:
    if stop_reason is not None:
        raise ServiceStopped("QA-02", f"the hospital has stopped online clinical service: {stop_reason}")
