"""RX-01 (same disease, indicated drugs), RX-02 (no specially managed drugs), RX-07 (human author), REV-05."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from hospital.core.rule_registry import Finding, Severity
from hospital.prescriptions.writing.values import PrescribedItem, PrescriptionDraft, ReviewCategory

pytestmark = pytest.mark.requirement("RX-01", "RX-02", "RX-07", "REV-05")

Item = Callable[..., PrescribedItem]
Draft = Callable[..., PrescriptionDraft]
Check = Callable[..., list[Finding]]
Having = Callable[..., list[Finding]]

AMLODIPINE = "C08CA01-tab-5mg"
METFORMIN = "A10BA02-tab-500mg"
OMEPRAZOLE = "A02BC01-eccap-20mg"


def test_a_prescription_for_a_different_disease_is_refused(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(METFORMIN, 500, times=2), diagnoses=("E11.9",), prior_diagnoses_icd10=("I10",))

    refused = having(check(prescription), "RX-01", Severity.BLOCK, "E11.9")

    assert len(refused) == 1
    assert refused[0].category == ReviewCategory.NON_STANDARD


def test_codes_in_the_same_icd10_category_are_the_same_disease(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(METFORMIN, 500, times=2), diagnoses=("E11.65",), prior_diagnoses_icd10=("E11.900x001",))

    assert having(check(prescription), "RX-01", Severity.BLOCK) == []


def test_without_a_prior_diagnosis_nothing_is_prescribed(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(AMLODIPINE, 5), prior_diagnoses_icd10=())

    assert having(check(prescription), "RX-01", Severity.BLOCK, "No confirmed prior diagnosis")


def test_a_prescription_without_a_diagnosis_is_refused(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item(AMLODIPINE, 5), diagnoses=(), prior_diagnoses_icd10=("I10",))

    assert having(check(prescription), "RX-01", Severity.BLOCK, "no clinical diagnosis")


def test_a_malformed_diagnosis_code_is_refused(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item(AMLODIPINE, 5), diagnoses=("hypertension",), prior_diagnoses_icd10=("I10",))

    assert having(check(prescription), "RX-01", Severity.BLOCK, "'hypertension' is not an ICD-10 code")


def test_a_drug_outside_the_classes_indicated_for_the_disease_is_flagged(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(AMLODIPINE, 5), item(OMEPRAZOLE, 20))

    flagged = having(check(prescription), "RX-01", Severity.WARN, "omeprazole")

    assert len(flagged) == 1
    assert flagged[0].category == ReviewCategory.EXCESSIVE
    assert having(check(prescription), "RX-01", Severity.WARN, "amlodipine") == []


def test_a_disease_without_an_indication_table_is_left_to_the_pharmacist(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(OMEPRAZOLE, 20), diagnoses=("Z99.2",))

    assert having(check(prescription), "RX-01", Severity.INFO, "No indication table")


def test_morphine_is_refused_outright(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item("N02AA01-tab-10mg", 10, times=3, days=3), diagnoses=("M17.0",))

    assert having(check(prescription), "RX-02", Severity.BLOCK, "麻醉药品")


def test_diazepam_is_refused_outright(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item("N05BA01-tab-2.5mg", "2.5", times=2), diagnoses=("F41.1",))

    assert having(check(prescription), "RX-02", Severity.BLOCK, "第二类精神药品")


@pytest.mark.parametrize(
    ("code", "dose", "diagnosis", "class_zh"),
    [
        ("N02AA05-prtab-10mg", 10, "M17.0", "麻醉药品"),
        ("N02AB03-patch-4.2mg", 1, "M17.0", "麻醉药品"),
        ("N02AX02-srtab-100mg", 100, "M17.0", "第二类精神药品"),
        ("N05BA12-tab-0.4mg", "0.4", "F41.1", "第二类精神药品"),
        ("N05CF02-tab-10mg", 10, "G47.0", "第二类精神药品"),
        ("N06BA04-ertab-18mg", 18, "F90.0", "第一类精神药品"),
        ("A03BA01-tab-0.3mg", "0.3", "R10.4", "医疗用毒性药品"),
        ("V10XA01-oral-370MBq", 370, "E05.0", "放射性药品"),
        ("R03CA02-tab-25mg", 25, "J45.9", "药品类易制毒化学品"),
    ],
)
def test_every_specially_managed_class_is_refused(
    item: Item, draft: Draft, check: Check, having: Having, code: str, dose: str, diagnosis: str, class_zh: str
) -> None:
    prescription = draft(item(code, dose), diagnoses=(diagnosis,))

    assert having(check(prescription), "RX-02", Severity.BLOCK, class_zh)


def test_an_unknown_drug_code_is_refused_with_a_finding_not_a_crash(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item("NOT-A-DRUG", 5), item(AMLODIPINE, 5))

    assert having(check(prescription), "RX-02", Severity.BLOCK, "'NOT-A-DRUG' is not in the hospital formulary")


def test_a_child_under_six_without_a_guardian_is_refused(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item("R06AE07-tab-10mg", 5), diagnoses=("J30.4",), patient_birth_date=date(2020, 1, 10))

    assert having(check(prescription), "REV-05", Severity.BLOCK, "5 years old")


def test_a_child_under_six_with_a_recorded_guardian_is_not_refused(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(
        item("R06AE07-tab-10mg", 5), diagnoses=("J30.4",), patient_birth_date=date(2020, 1, 10), guardian_recorded=True
    )

    assert having(check(prescription), "REV-05", Severity.BLOCK) == []


def test_a_child_is_six_from_the_sixth_birthday(item: Item, draft: Draft, check: Check, having: Having) -> None:
    turns_six_today = draft(item("R06AE07-tab-10mg", 5), diagnoses=("J30.4",), patient_birth_date=date(2019, 3, 3))
    turns_six_tomorrow = draft(item("R06AE07-tab-10mg", 5), diagnoses=("J30.4",), patient_birth_date=date(2019, 3, 4))

    assert having(check(turns_six_today), "REV-05", Severity.BLOCK) == []
    assert having(check(turns_six_tomorrow), "REV-05", Severity.BLOCK)


@pytest.mark.parametrize("origin", ["ai", "auto", "import", "Clinician", ""])
def test_a_draft_not_written_by_a_clinician_is_refused(
    item: Item, draft: Draft, check: Check, having: Having, origin: str
) -> None:
    prescription = draft(item(AMLODIPINE, 5), origin=origin)

    assert having(check(prescription), "RX-07", Severity.BLOCK, "never generated by AI")


def test_a_draft_without_a_prescribing_doctor_is_refused(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(AMLODIPINE, 5), prescriber_id="  ")

    assert having(check(prescription), "RX-07", Severity.BLOCK, "No prescribing doctor")
