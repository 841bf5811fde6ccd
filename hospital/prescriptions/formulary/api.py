"""The formulary over HTTP: drugs with prices, limits and classes, for the doctor's form and the public (INS-03)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, get

from hospital.context import HospitalContext
from hospital.contracts.formulary import DrugView
from hospital.prescriptions.formulary.queries import formulary_of
from hospital.prescriptions.formulary.values import AntimicrobialGrade, Drug
from hospital.web.http import PUBLIC

__all__ = ["FormularyController", "drug_view"]


def drug_view(drug: Drug) -> dict[str, Any]:
    online = not drug.is_controlled and drug.antimicrobial_grade is not AntimicrobialGrade.SPECIAL
    return {"code": drug.code, "name_zh": drug.name_zh, "generic_name": drug.generic_name, "atc_code": drug.atc_code,
            "form": drug.form, "strength": f"{drug.strength} {drug.strength_unit}", "dose_unit": drug.dose_unit,
            "max_single_dose": str(drug.max_single_dose) if drug.max_single_dose is not None else None,
            "max_daily_dose": str(drug.max_daily_dose) if drug.max_daily_dose is not None else None,
            "max_weekly_dose": str(drug.max_weekly_dose) if drug.max_weekly_dose is not None else None,
            "frequencies": sorted(drug.frequencies), "prn_max_per_day": drug.prn_max_per_day,
            "high_alert": drug.high_alert,
            "pack": f"{drug.pack_size} {drug.dispensing_unit}", "price_cny": f"{drug.price_cny:.2f}",
            "controlled_class": drug.controlled_class, "antimicrobial_grade": drug.antimicrobial_grade,
            "chronic": drug.chronic, "prescribable_online": online}


class FormularyController(Controller):
    path = "/api/formulary"
    tags = ["prescriptions"]
    opt = PUBLIC

    @get("/", summary="The formulary with prices (the doctor's form; the public disclosure of drug prices, INS-03)")
    async def formulary(self, ctx: HospitalContext) -> list[DrugView]:
        return msgspec.convert([drug_view(d) for d in formulary_of(ctx)], list[DrugView])
