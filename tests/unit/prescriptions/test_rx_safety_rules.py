"""RX-04: incompatible pairs (in the prescription and with ones still in effect), antimicrobial grades, allergies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hospital.core.rule_registry import Finding, Severity
from hospital.prescriptions.formulary.values import Impairment
from hospital.prescriptions.writing.values import PrescribedItem, PrescriptionDraft, ReviewCategory

pytestmark = pytest.mark.requirement("RX-04")

Item = Callable[..., PrescribedItem]
Draft = Callable[..., PrescriptionDraft]
Check = Callable[..., list[Finding]]
Having = Callable[..., list[Finding]]

SIMVASTATIN = "C10AA01-tab-20mg"
CLARITHROMYCIN = "J01FA09-tab-250mg"
CLOPIDOGREL = "B01AC04-tab-75mg"
OMEPRAZOLE = "A02BC01-eccap-20mg"
AMLODIPINE = "C08CA01-tab-5mg"
SILDENAFIL = "G04BE03-tab-50mg"
ISOSORBIDE_MONONITRATE = "C01DA14-srtab-60mg"
AMOXICILLIN = "J01CA04-cap-250mg"
CEFUROXIME = "J01DC02-tab-250mg"


def test_a_contraindicated_pair_is_refused(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item(SIMVASTATIN, 20), item(CLARITHROMYCIN, 500, times=2), diagnoses=("E78.0", "J20.9"))

    refused = having(check(prescription), "RX-04", Severity.BLOCK, "contraindicated")

    assert len(refused) == 1
    assert "simvastatin" in refused[0].message and "clarithromycin" in refused[0].message
    assert refused[0].category == ReviewCategory.UNSUITABLE


def test_a_major_pair_is_warned(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item(CLOPIDOGREL, 75), item(OMEPRAZOLE, 20), diagnoses=("I25.1", "K21.9"))

    findings = check(prescription)

    assert having(findings, "RX-04", Severity.WARN, "omeprazole inhibits CYP2C19")
    assert having(findings, "RX-04", Severity.BLOCK) == []


def test_a_moderate_pair_is_recorded(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item(AMLODIPINE, 5), item(SIMVASTATIN, 20), diagnoses=("I10", "E78.0"))

    assert having(check(prescription), "RX-04", Severity.INFO, "do not exceed simvastatin 20mg")


def test_a_pair_given_by_drug_class_is_refused(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item(SILDENAFIL, 50), item(ISOSORBIDE_MONONITRATE, 60), diagnoses=("N48.4", "I25.1"))

    assert having(check(prescription), "RX-04", Severity.BLOCK, "organic nitrate")


def test_a_pair_with_a_prescription_still_in_effect_is_refused(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(
        item(CLARITHROMYCIN, 500, times=2), diagnoses=("J20.9",), current_effective_items=(SIMVASTATIN,)
    )

    assert having(check(prescription), "RX-04", Severity.BLOCK, "on a prescription still in effect")


def test_sildenafil_is_refused_for_a_patient_already_on_a_nitrate(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(SILDENAFIL, 50), diagnoses=("N48.4",), current_effective_items=(ISOSORBIDE_MONONITRATE,))

    assert having(check(prescription), "RX-04", Severity.BLOCK, "organic nitrate")


def test_an_unknown_drug_in_effect_is_flagged_as_unchecked(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(AMLODIPINE, 5), current_effective_items=("FOREIGN-123",))

    assert having(check(prescription), "RX-04", Severity.WARN, "interactions unchecked")


def test_a_special_use_antimicrobial_is_never_prescribed_online(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item("J01XX08-tab-600mg", 600, times=2), diagnoses=("J18.9",))

    assert having(check(prescription), "RX-04", Severity.BLOCK, "特殊使用级")


def test_a_restricted_antimicrobial_is_warned(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item("J01MA14-tab-400mg", 400, days=5), diagnoses=("J18.9",))

    assert having(check(prescription), "RX-04", Severity.WARN, "限制使用级")
    assert having(check(draft(item(AMOXICILLIN, 500, times=3), diagnoses=("J02.9",))), "RX-04", Severity.WARN) == []


@pytest.mark.parametrize("allergy", ["penicillin", "青霉素", "amoxicillin", "阿莫西林", "J01C", "j01ca04"])
def test_a_drug_the_patient_is_allergic_to_is_refused(
    item: Item, draft: Draft, check: Check, having: Having, allergy: str
) -> None:
    prescription = draft(item(AMOXICILLIN, 500, times=3), diagnoses=("J02.9",), patient_allergies=(allergy,))

    assert having(check(prescription), "RX-04", Severity.BLOCK, "recorded as allergic")


def test_a_cephalosporin_for_a_penicillin_allergic_patient_is_warned(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(CEFUROXIME, 250, times=2), diagnoses=("J02.9",), patient_allergies=("青霉素",))

    findings = check(prescription)

    assert having(findings, "RX-04", Severity.WARN, "may cross-react")
    assert having(findings, "RX-04", Severity.BLOCK) == []


def test_an_allergy_to_another_substance_does_not_refuse(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(AMLODIPINE, 5), patient_allergies=("penicillin", "aspirin"))

    assert having(check(prescription), "RX-04", Severity.BLOCK) == []


def test_an_unrecognised_allergy_is_left_to_the_pharmacist(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(AMLODIPINE, 5), patient_allergies=("花生",))

    assert having(check(prescription), "RX-04", Severity.INFO, "'花生' matches no substance")


def test_nothing_is_prescribed_without_an_allergy_statement(item: Any, draft: Any, check: Any, having: Any) -> None:
    assert having(check(draft(item("C08CA01-tab-5mg", 5), allergy_statement=False)), "RX-04", Severity.BLOCK,
                  "no allergy statement")
    assert having(check(draft(item("C08CA01-tab-5mg", 5))), "RX-04", Severity.BLOCK) == []


def test_renal_and_hepatic_impairment_block_or_warn_from_the_labels_category_up(
    item: Any, draft: Any, check: Any, having: Any
) -> None:
    metformin = item("A10BA02-tab-500mg", 500, times=2)
    diabetes = {"diagnoses": ("E11.9",)}

    assert having(check(draft(metformin, renal=Impairment.SEVERE, **diabetes)), "RX-04", Severity.BLOCK,
                  "contraindicated in severe renal impairment")
    assert having(check(draft(metformin, renal=Impairment.MODERATE, **diabetes)), "RX-04", Severity.WARN,
                  "moderate renal impairment needs a dose check")
    assert [f for f in check(draft(metformin, renal=Impairment.MILD, **diabetes)) if f.rule_id == "RX-04"] == []
    assert having(check(draft(metformin, hepatic=Impairment.SEVERE, **diabetes)), "RX-04", Severity.BLOCK,
                  "severe hepatic impairment")


def test_pregnancy_and_lactation_contraindications_block_and_an_unknown_pregnancy_warns(
    item: Any, draft: Any, check: Any, having: Any
) -> None:
    atorvastatin = item("C10AA05-tab-20mg", 20)
    lipids = {"diagnoses": ("E78.0",)}

    assert having(check(draft(atorvastatin, pregnant=True, **lipids)), "RX-04", Severity.BLOCK, "in pregnancy")
    assert having(check(draft(atorvastatin, lactating=True, **lipids)), "RX-04", Severity.BLOCK, "in lactation")
    assert having(check(draft(atorvastatin, pregnancy_unknown=True, **lipids)), "RX-04", Severity.WARN,
                  "whether the patient is pregnant is unknown")
    assert [f for f in check(draft(atorvastatin, **lipids)) if f.rule_id == "RX-04"] == []


def test_an_antimicrobial_needs_the_prescribers_grade(item: Any, draft: Any, check: Any, having: Any) -> None:
    moxifloxacin = item("J01MA14-tab-400mg", 400, days=5)
    amoxicillin = item("J01CA04-cap-250mg", 500, times=3, days=5)

    for grade in ("unrestricted", "none", None):
        assert having(check(draft(moxifloxacin, diagnoses=("J20.9",), prescriber_antimicrobial_grade=grade)),
                      "RX-04", Severity.BLOCK, "antimicrobial grade")
    assert having(check(draft(moxifloxacin, diagnoses=("J20.9",), prescriber_antimicrobial_grade="restricted")),
                  "RX-04", Severity.BLOCK) == []
    assert having(check(draft(amoxicillin, diagnoses=("J02.9",), prescriber_antimicrobial_grade="unrestricted")),
                  "RX-04", Severity.BLOCK) == []


def test_a_high_alert_drug_is_flagged_for_the_double_check(item: Any, draft: Any, check: Any, having: Any) -> None:
    assert having(check(draft(item("B01AA03-tab-2.5mg", 5), diagnoses=("I48.0",))), "RX-04", Severity.WARN,
                  "high-alert drug")
    assert having(check(draft(item("C08CA01-tab-5mg", 5))), "RX-04", Severity.WARN, "high-alert") == []


def test_a_safety_context_is_an_explicit_coded_plausible_statement(formulary: Any) -> None:
    from decimal import Decimal

    from hospital.core.errors import RuleViolation
    from hospital.prescriptions.safety.rules import check_safety_context
    from hospital.prescriptions.safety.values import AllergyStatus, Pregnancy, SafetyContext

    stated = check_safety_context(SafetyContext(allergy_status=AllergyStatus.ALLERGIES, allergies=(" Penicillins ",)),
                                  formulary, patient_sex="male")
    assert stated.allergies == ("penicillins",)  # coded as the rules read it
    check_safety_context(SafetyContext(allergy_status=AllergyStatus.NO_KNOWN_ALLERGIES), formulary, patient_sex="male")
    for context, sex in [
        (SafetyContext(allergy_status=AllergyStatus.ALLERGIES), "male"),  # allergies, none named
        (SafetyContext(allergy_status=AllergyStatus.NO_KNOWN_ALLERGIES, allergies=("penicillins",)), "male"),
        (SafetyContext(allergy_status=AllergyStatus.ALLERGIES, allergies=("peanut butter",)), "male"),  # not coded
        (SafetyContext(allergy_status=AllergyStatus.NO_KNOWN_ALLERGIES, pregnancy=Pregnancy.PREGNANT), "male"),
        (SafetyContext(allergy_status=AllergyStatus.NO_KNOWN_ALLERGIES, weight_kg=Decimal(900)), "female"),
    ]:
        with pytest.raises(RuleViolation) as refused:
            check_safety_context(context, formulary, patient_sex=sex)
        assert refused.value.rule_id == "RX-04"
