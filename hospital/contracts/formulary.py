"""Wire schema of the formulary (`GET /api/formulary`): one drug with its price and its limits, as the doctor's
form and the public price disclosure (INS-03) read it."""

from __future__ import annotations

import msgspec

__all__ = ["DrugView"]


class DrugView(msgspec.Struct, kw_only=True):
    code: str
    name_zh: str
    generic_name: str
    atc_code: str
    form: str
    strength: str  # "5 mg"
    dose_unit: str
    max_single_dose: str | None  # a decimal as text; None where the label sets none
    max_daily_dose: str | None
    max_weekly_dose: str | None
    frequencies: list[str]
    prn_max_per_day: int | None
    high_alert: bool
    pack: str
    price_cny: str
    controlled_class: str
    antimicrobial_grade: str
    chronic: bool
    prescribable_online: bool
