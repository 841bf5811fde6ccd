"""The made-up people and papers the reference driver plays scenarios with: resident ID numbers with their
check digit, birth dates of a given age, a hospital's registration number, a scanned record. Drawn from the
driver's seeded random generator, so that a run is reproducible by its seed.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from hospital.core.pdf import one_page_pdf

__all__ = ["birth_date", "record_pdf", "registration_number", "resident_id"]


def resident_id(birth: date, rng: random.Random) -> str:
    from stdnum.cn import ric

    body = f"110101{birth:%Y%m%d}{rng.randrange(100, 999)}"
    return body + ric.calc_check_digit(body + "0")


def registration_number(rng: random.Random) -> str:
    """A well-formed 医疗机构登记号 (REV-01): a 组织机构代码 with its GB 11714 check character, 东城区 110101,
    经济类型 11, 综合医院 A100, 非营利 1."""
    from hospital.visits.intake.rules.evidence import organisation_check_character

    organisation = f"{rng.randrange(10**7, 10**8)}"
    return f"{organisation}{organisation_check_character(organisation)}11010111A1001"


def birth_date(age_years: float, today: date, rng: random.Random) -> date:
    """A birth date `age_years` old (and up to ten months more), so that patients of one age differ."""
    return today - timedelta(days=int(age_years * 365.25) + rng.randrange(2, 300))


def record_pdf() -> bytes:
    """A one-page PDF standing in for the scanned outpatient record (the same shape as the demo's)."""
    return one_page_pdf(["Outpatient record", "Diagnosis: follow-up"])
