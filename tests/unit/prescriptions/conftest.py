"""Fixtures for the prescription rules: the bundled formulary, loaded once, and builders for drafts."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from hospital.core.rule_registry import Finding, Severity
from hospital.prescriptions.formulary.tables import load_formulary
from hospital.prescriptions.formulary.values import Formulary
from hospital.prescriptions.writing.rules import check_prescription
from hospital.prescriptions.writing.values import PrescribedItem, PrescriptionDraft, RxSettings

ISSUED_ON = date(2025, 3, 3)

ItemFactory = Callable[..., PrescribedItem]
DraftFactory = Callable[..., PrescriptionDraft]
Check = Callable[..., list[Finding]]


@pytest.fixture(scope="session")
def formulary() -> Formulary:
    return load_formulary()


@pytest.fixture
def item(formulary: Formulary) -> ItemFactory:
    """`item(code, dose)`: a line in the drug's dose unit, once a day for 7 days, with just enough packs, taken
    by mouth (usage 口服)."""

    def build(
        code: str,
        dose: str | int,
        *,
        times: int = 1,
        days: int = 7,
        packs: int | None = None,
        interval: int = 1,
        unit: str | None = None,
        frequency: str | None = None,
        usage: str = "口服",
    ) -> PrescribedItem:
        drug = formulary.get(code)
        dose_unit = unit or (drug.dose_unit if drug else "mg")
        if packs is None:
            packs = 1
            if drug is not None:
                units = drug.dispensing_units_per_dose(Decimal(dose)) * times * math.ceil(days / interval)
                packs = max(1, math.ceil(units / drug.pack_size))
        return PrescribedItem(
            drug_code=code,
            dose_per_time=Decimal(dose),
            dose_unit=dose_unit,
            times_per_day=times,
            days_supply=days,
            quantity_packs=packs,
            interval_days=interval,
            frequency=frequency,
            usage=usage,
        )

    return build


@pytest.fixture
def draft() -> DraftFactory:
    """`draft(*items, diagnoses=("I10",), **overrides)`: an adult's hypertension revisit written by a doctor."""

    def build(*items: PrescribedItem, diagnoses: tuple[str, ...] = ("I10",), **overrides: Any) -> PrescriptionDraft:
        fields: dict[str, Any] = {
            "items": items,
            "diagnoses_icd10": diagnoses,
            "prior_diagnoses_icd10": diagnoses,
            "issued_on": ISSUED_ON,
            "patient_birth_date": date(1961, 5, 20),
            "origin": "clinician",
            "prescriber_id": "doctor-0001",
            "allergy_statement": True,
            "prescriber_title": "主任医师",
            "prescriber_antimicrobial_grade": "special",  # a 主任医师 (the grade rule has its own tests)
        }
        fields.update(overrides)
        if fields.get("long_prescription_reason") and "long_prescription_code" not in overrides:
            fields["long_prescription_code"] = "stable_chronic_disease"  # the coded reason has its own tests
        return PrescriptionDraft(**fields)

    return build


@pytest.fixture
def check(formulary: Formulary) -> Check:
    """Run every prescription rule on a draft."""

    def run(prescription: PrescriptionDraft, settings: RxSettings | None = None) -> list[Finding]:
        return check_prescription(prescription, formulary, settings=settings)

    return run


Having = Callable[..., list[Finding]]


@pytest.fixture
def having() -> Having:
    """`having(findings, rule_id, severity, text="")`: those of `rule_id` at `severity` mentioning `text`."""

    def select(findings: list[Finding], rule_id: str, severity: Severity, text: str = "") -> list[Finding]:
        return [f for f in findings if f.rule_id == rule_id and f.severity is severity and text in f.message]

    return select
