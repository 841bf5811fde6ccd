"""The patient's safety context as plain values (RX-04). Nothing here reads a file or a database."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hospital.prescriptions.formulary.values import Impairment

__all__ = ["AllergyStatus", "Pregnancy", "SafetyContext", "SafetyFacts", "renal_from_egfr"]


class AllergyStatus(enum.StrEnum):
    """An explicit statement, never an empty default: either coded allergies or "no known allergies"."""

    ALLERGIES = "allergies"
    NO_KNOWN_ALLERGIES = "no_known_allergies"


class Pregnancy(enum.StrEnum):
    PREGNANT = "pregnant"
    NOT_PREGNANT = "not_pregnant"
    UNKNOWN = "unknown"  # treated as possibly pregnant for a contraindicated drug (warned)
    NOT_APPLICABLE = "not_applicable"  # male patients, children


def renal_from_egfr(egfr: int) -> Impairment:
    """KDIGO-style bands, in the formulary's three categories: ≥ 90 none, 60–89 mild, 30–59 moderate, < 30 severe."""
    if egfr >= 90:
        return Impairment.NONE
    if egfr >= 60:
        return Impairment.MILD
    if egfr >= 30:
        return Impairment.MODERATE
    return Impairment.SEVERE


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyContext:
    """One version of the context. `allergies` are codes of the formulary's vocabulary: an allergen group
    ("penicillins") or a formulary substance ("amoxicillin")."""

    allergy_status: AllergyStatus
    allergies: tuple[str, ...] = ()
    pregnancy: Pregnancy = Pregnancy.NOT_APPLICABLE
    lactating: bool = False
    renal: Impairment = Impairment.NONE
    egfr: int | None = None
    hepatic: Impairment = Impairment.NONE
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None
    note: str = ""

    @property
    def renal_category(self) -> Impairment:
        """The worse of the category given and the one the eGFR falls in."""
        if self.egfr is None:
            return self.renal
        from_egfr = renal_from_egfr(self.egfr)
        return from_egfr if from_egfr.rank > self.renal.rank else self.renal

    def as_json(self) -> dict[str, Any]:
        return {"allergy_status": str(self.allergy_status), "allergies": list(self.allergies),
                "pregnancy": str(self.pregnancy), "lactating": self.lactating, "renal": str(self.renal),
                "egfr": self.egfr, "hepatic": str(self.hepatic),
                "weight_kg": str(self.weight_kg) if self.weight_kg is not None else None,
                "height_cm": str(self.height_cm) if self.height_cm is not None else None, "note": self.note}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SafetyContext:
        return cls(allergy_status=AllergyStatus(data["allergy_status"]), allergies=tuple(data["allergies"]),
                   pregnancy=Pregnancy(data["pregnancy"]), lactating=bool(data["lactating"]),
                   renal=Impairment(data["renal"]), egfr=data.get("egfr"), hepatic=Impairment(data["hepatic"]),
                   weight_kg=Decimal(data["weight_kg"]) if data.get("weight_kg") else None,
                   height_cm=Decimal(data["height_cm"]) if data.get("height_cm") else None,
                   note=data.get("note", ""))


@dataclass(frozen=True, slots=True)
class SafetyFacts:
    """What the prescription rules take for one visit: None context means no allergy statement at all; the
    weight counts only when it was recorded in this visit (a child's dose is per kg of today's weight)."""

    context: SafetyContext | None
    version_id: str | None
    weight_kg: Decimal | None
