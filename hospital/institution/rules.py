"""Institution rules: the licence must be in force for internet diagnosis (INS-01); only approved
departments take visits (INS-02). Pure."""

from __future__ import annotations

import csv
import re
import unicodedata
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from types import MappingProxyType

from hospital.core.errors import RuleViolation, ServiceStopped
from hospital.core.rule_registry import rule

__all__ = [
    "INTERNET_DIAGNOSIS",
    "LicenceFacts",
    "LicenceText",
    "SeniorPhysician",
    "check_department_approved",
    "check_department_opening",
    "check_licence_fields",
    "check_licence_in_force",
    "check_service_open",
    "check_service_stop_confirmation",
    "check_service_stop_reason",
    "department_covers",
    "service_stop_reasons",
]

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


# The institution's own records (INS-01): the fields of the licence, validated by their formats.
_LICENCE_NUMBER = re.compile(r"^[0-9A-Z][0-9A-Z-]{4,38}[0-9A-Z]$")
_INTERNET_HOSPITAL = "互联网医院"


@dataclass(frozen=True, slots=True)
class LicenceText:
    licence_number: str
    institution_name: str
    internet_hospital_name: str
    issuer: str
    valid_from: date
    valid_until: date
    service_modes: tuple[str, ...]
    address: str = ""
    legal_representative: str = ""


def _plain_text(field: str, value: str, *, required: bool = True, max_length: int = 200) -> None:
    """Printable letters, digits, punctuation and spaces: no control characters, no emoji or pictographs."""
    if required and not value.strip():
        raise RuleViolation("INS-01", f"{field} is required", field=field)
    if value != value.strip() or len(value) > max_length:
        raise RuleViolation("INS-01", f"{field} has leading or trailing blanks or is over {max_length} characters",
                            field=field)
    for ch in value:
        category = unicodedata.category(ch)
        if category[0] == "C" or category in ("So", "Sk") or ord(ch) > 0xFFFF:
            raise RuleViolation("INS-01", f"{field} contains {ch!r} (U+{ord(ch):04X}, {category}): only text "
                                          "characters are accepted", field=field)


@rule("INS-01", "The licence's fields are recorded in their formats", source="PD 4-5; 医疗机构管理条例实施细则")
def check_licence_fields(licence: LicenceText) -> None:
    """Refuse a licence number outside the licence's alphabet, names with control characters or emoji, an
    internet hospital name that is not a 互联网医院, a validity that ends before it starts, no service mode."""
    if not _LICENCE_NUMBER.match(licence.licence_number):
        raise RuleViolation("INS-01", f"licence number {licence.licence_number!r} is not 6-40 capital letters, digits "
                                      "and inner hyphens (登记号 of the 医疗机构执业许可证)", field="licence_number")
    for field in ("institution_name", "internet_hospital_name", "issuer"):
        _plain_text(field, getattr(licence, field))
    _plain_text("address", licence.address, required=False)
    _plain_text("legal_representative", licence.legal_representative, required=False, max_length=60)
    if _INTERNET_HOSPITAL not in licence.internet_hospital_name:
        raise RuleViolation("INS-01", f"the second name {licence.internet_hospital_name!r} must name the "
                                      f"{_INTERNET_HOSPITAL} (第二名称)", field="internet_hospital_name")
    if licence.valid_until <= licence.valid_from:
        raise RuleViolation("INS-01", "the licence's validity ends before it starts", field="valid_until")
    if not licence.service_modes:
        raise RuleViolation("INS-01", "the licence lists no service mode", field="service_modes")
    for mode in licence.service_modes:
        _plain_text("service_modes", mode, max_length=40)


STOP_REASONS_FILE = Path(__file__).parent / "data" / "service_stop_reasons.csv"


@cache
def service_stop_reasons() -> Mapping[str, str]:
    """The reviewed reasons a whole-service stop may give: code → Chinese name."""
    with STOP_REASONS_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if any(not (r.get("code") and r.get("name_zh") and r.get("source")) for r in rows):
        raise ValueError(f"{STOP_REASONS_FILE.name}: every reason needs a code, a name and a source")
    return MappingProxyType({r["code"]: r["name_zh"] for r in rows})


@rule("QA-02", "A whole-service stop gives a coded reason and its explanation", source="PD 18")
def check_service_stop_reason(reason_code: str, reason: str) -> str:
    """The explanation, or a refusal naming the codes of `service_stop_reasons.csv`."""
    codes = service_stop_reasons()
    if reason_code not in codes:
        raise RuleViolation("QA-02", f"reason code {reason_code!r} is not one of: {', '.join(codes)}",
                            field="reason_code")
    text = " ".join(reason.split())
    if len(text) < 4 or not any(ch.isalpha() for ch in text):
        raise RuleViolation("QA-02", "say why service stops, in words (at least 4 characters)", field="reason")
    _plain_text("reason", text, max_length=1000)
    return text


@rule("QA-02", "A whole-service stop takes effect on a second administrator's confirmation", source="PD 18")
def check_service_stop_confirmation(requested_by: uuid.UUID | None, confirmed_by: uuid.UUID | None) -> None:
    if confirmed_by is None or requested_by is None or requested_by == confirmed_by:
        raise RuleViolation("QA-02", "the administrator who asked for the stop cannot confirm it: a second "
                                     "administrator confirms a whole-service stop")


# PD 8(二) (浦东 compliance guide 三(二)): a 诊疗科目 is opened online only when the physical institution has at
# least one 正高 and one 副高 physician of that speciality registered. Titles of 卫生专业技术资格 for physicians.
FULL_SENIOR_TITLES = frozenset({"主任医师", "主任中医师", "主任中西医结合医师"})
ASSOCIATE_SENIOR_TITLES = frozenset({"副主任医师", "副主任中医师", "副主任中西医结合医师"})
_PRACTICE_NUMBER = re.compile(r"^\d{15}$")  # 医师执业证书编码


@dataclass(frozen=True, slots=True)
class SeniorPhysician:
    name: str
    title: str
    practice_number: str


@rule("INS-02", "A department opens with one 正高 and one 副高 physician of its speciality registered",
      source="PD 8(二)")
def check_department_opening(code: str, physicians: Collection[SeniorPhysician]) -> None:
    """Refuse opening `code` without a 正高 and a 副高 physician, each named with a 15-digit 执业证书编码."""
    for p in physicians:
        _plain_text("senior_physicians.name", p.name, max_length=60)
        if not _PRACTICE_NUMBER.match(p.practice_number):
            raise RuleViolation("INS-02", f"{p.name}: 执业证书编码 {p.practice_number!r} is not 15 digits",
                                field="senior_physicians")
    if len({p.practice_number for p in physicians}) != len(physicians):
        raise RuleViolation("INS-02", "each physician is listed once", field="senior_physicians")
    if not any(p.title in FULL_SENIOR_TITLES for p in physicians) or not any(
            p.title in ASSOCIATE_SENIOR_TITLES for p in physicians):
        raise RuleViolation("INS-02", f"opening {code} needs one 正高 ({'/'.join(sorted(FULL_SENIOR_TITLES))}) and "
                                      f"one 副高 ({'/'.join(sorted(ASSOCIATE_SENIOR_TITLES))}) physician of the "
                                      "speciality registered at the physical institution (PD 8(二))",
                            field="senior_physicians")
