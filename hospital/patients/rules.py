"""Real-name registration rules (PAT-01). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, ValidationError

from hospital.core.errors import RuleViolation
from hospital.core.rule_registry import rule

__all__ = ["ResidentId", "age_on", "check_phone", "check_real_name", "check_resident_id"]

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


@dataclass(frozen=True, slots=True)
class ResidentId:
    number: str
    birth_date: date
    sex: str


@rule("PAT-01", "A valid 18-digit resident ID number: checksum and a real, past birth date", source="PD 14, MS 第十一条")
def check_resident_id(raw: str, today: date) -> ResidentId:
    number = ric.compact(raw).upper()
    if len(number) != 18:
        raise RuleViolation("PAT-01", "the resident ID number must have 18 characters", field="id_number")
    try:
        ric.validate(number)
        birth = ric.get_birth_date(number)
    except InvalidChecksum as exc:
        raise RuleViolation("PAT-01", "the resident ID number's check digit is wrong", field="id_number") from exc
    except ValidationError as exc:
        raise RuleViolation("PAT-01", f"the resident ID number is not valid: {exc}", field="id_number") from exc
    if birth > today or birth.year < 1900:
        raise RuleViolation("PAT-01", "the birth date in the resident ID number is not possible", field="id_number")
    sex = "male" if int(number[16]) % 2 == 1 else "female"
    return ResidentId(number, birth, sex)


@rule("PAT-01", "A mainland mobile number for real-name contact", source="PD 14, MS 第十一条")
def check_phone(raw: str) -> str:
    phone = re.sub(r"[\s-]", "", raw)
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _MOBILE.match(phone):
        raise RuleViolation("PAT-01", "the phone must be an 11-digit mainland mobile number", field="phone")
    return phone


@rule("PAT-01", "The real name is given", source="PD 14")
def check_real_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not 2 <= len(name) <= 40:
        raise RuleViolation("PAT-01", "the real name must have 2 to 40 characters", field="real_name")
    return name


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
