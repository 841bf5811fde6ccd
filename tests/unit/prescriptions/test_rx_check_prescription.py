"""`check_prescription` runs every rule; a clean hypertension prescription passes; rules are registered."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hospital.core.rule_registry import Finding, Severity, all_rules
from hospital.prescriptions.formulary.values import Formulary
from hospital.prescriptions.writing.rules import PRESCRIPTION_RULES, blocking, check_prescription
from hospital.prescriptions.writing.values import PrescribedItem, PrescriptionDraft

pytestmark = pytest.mark.requirement("RX-01", "RX-02", "RX-03", "RX-04", "RX-07", "REV-05")

Item = Callable[..., PrescribedItem]
Draft = Callable[..., PrescriptionDraft]
Check = Callable[..., list[Finding]]

AMLODIPINE = "C08CA01-tab-5mg"
VALSARTAN = "C09CA03-cap-80mg"


def test_a_clean_hypertension_prescription_has_no_findings(item: Item, draft: Draft, check: Check) -> None:
    prescription = draft(item(AMLODIPINE, 5), item(VALSARTAN, 80), diagnoses=("I10.x00x002",))

    assert check(prescription) == []


def test_a_clean_long_hypertension_prescription_is_not_blocked(item: Item, draft: Draft, check: Check) -> None:
    prescription = draft(
        item(AMLODIPINE, 5, days=28),
        item(VALSARTAN, 80, days=28),
        item("C10AA05-tab-20mg", 20, days=28),
        diagnoses=("I10", "E78.5"),
        long_prescription_reason="高血压、血脂异常病情稳定，用药方案三个月未变",
    )

    findings = check(prescription)

    assert blocking(findings) == []
    assert {f.severity for f in findings} == {Severity.INFO}


def test_blocking_keeps_only_the_refusals(item: Item, draft: Draft, check: Check) -> None:
    findings = check(draft(item("N02AA01-tab-10mg", 10), item(AMLODIPINE, 5, days=14)))

    refusals = blocking(findings)

    assert {f.rule_id for f in refusals} == {"RX-02", "RX-03"}
    assert all(f.severity is Severity.BLOCK for f in refusals)
    assert len(refusals) < len(findings)


def test_every_prescription_rule_is_registered_under_its_requirement(formulary: Formulary) -> None:
    registered = {r.function: r.rule_id for r in all_rules()}

    assert all(check in registered for check in PRESCRIPTION_RULES)
    assert {registered[check] for check in PRESCRIPTION_RULES} == {
        "RX-01",
        "RX-02",
        "RX-03",
        "RX-04",
        "RX-07",
        "REV-05",
    }


def test_every_finding_carries_a_prescription_review_category(item: Item, draft: Draft, formulary: Formulary) -> None:
    messy = draft(
        *[item(code, 1) for code in ("N02AA01-tab-10mg", "NOPE", "J01XX08-tab-600mg", "C08CA01-tab-5mg")],
        item(AMLODIPINE, 5, days=120, packs=9),
        diagnoses=("E11",),
        prior_diagnoses_icd10=("I10",),
        origin="ai",
        validity_days=9,
        patient_allergies=("amlodipine",),
    )

    findings = check_prescription(messy, formulary)

    assert len(blocking(findings)) >= 8
    assert {f.category for f in findings} <= {"non_standard", "unsuitable", "excessive"}
