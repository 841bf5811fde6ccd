"""RX-03: number of drugs, label maximum, days supply and long prescriptions, quantity, duplicates, validity,
high amounts."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from hospital.core.rule_registry import Finding, Severity
from hospital.prescriptions.writing.values import PrescribedItem, PrescriptionDraft, ReviewCategory, RxSettings

pytestmark = pytest.mark.requirement("RX-03")

Item = Callable[..., PrescribedItem]
Draft = Callable[..., PrescriptionDraft]
Check = Callable[..., list[Finding]]
Having = Callable[..., list[Finding]]

AMLODIPINE = "C08CA01-tab-5mg"
VALSARTAN = "C09CA03-cap-80mg"
METOPROLOL = "C07AB02-srtab-47.5mg"
HYDROCHLOROTHIAZIDE = "C03AA03-tab-25mg"
ENALAPRIL = "C09AA02-tab-10mg"
SPIRONOLACTONE = "C03DA01-tab-20mg"
NIFEDIPINE_CR = "C08CA05-crtab-30mg"
AMOXICILLIN = "J01CA04-cap-250mg"
ALENDRONATE = "M05BA04-tab-70mg"
WARFARIN = "B01AA03-tab-2.5mg"
REASON = "血压控制平稳，用药方案稳定三个月"


def test_six_drugs_on_one_prescription_are_refused(item: Item, draft: Draft, check: Check, having: Having) -> None:
    six = [
        item(c, d)
        for c, d in [
            (AMLODIPINE, 5),
            (VALSARTAN, 80),
            (METOPROLOL, "47.5"),
            (HYDROCHLOROTHIAZIDE, "12.5"),
            (SPIRONOLACTONE, 20),
            (ENALAPRIL, 10),
        ]
    ]

    assert having(check(draft(*six)), "RX-03", Severity.BLOCK, "6 drugs")
    assert having(check(draft(*six[:5])), "RX-03", Severity.BLOCK, "drugs on one prescription") == []


def test_a_dose_over_the_label_daily_maximum_is_refused(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item(AMLODIPINE, 10, times=2))

    refused = having(check(prescription), "RX-03", Severity.BLOCK, "exceeds the label maximum of 10 mg")

    assert len(refused) == 1
    assert refused[0].category == ReviewCategory.EXCESSIVE


def test_the_label_daily_maximum_itself_is_allowed(item: Item, draft: Draft, check: Check, having: Having) -> None:
    assert having(check(draft(item(AMLODIPINE, 10))), "RX-03", Severity.BLOCK) == []


def test_a_weekly_tablet_is_checked_against_its_average_daily_dose(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    weekly = draft(item(ALENDRONATE, 70, interval=7, days=28), diagnoses=("M81.0",), long_prescription_reason=REASON)
    daily = draft(item(ALENDRONATE, 70, days=7), diagnoses=("M81.0",))

    assert having(check(weekly), "RX-03", Severity.BLOCK) == []
    assert having(check(daily), "RX-03", Severity.BLOCK, "exceeds the label maximum")


def test_a_drug_whose_label_sets_no_maximum_goes_to_the_pharmacist(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(WARFARIN, 5), diagnoses=("I48.0",))

    assert having(check(prescription), "RX-03", Severity.WARN, "the label sets no maximum")


def test_a_dose_in_the_wrong_unit_is_refused(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item(AMLODIPINE, 1, unit="tablet"))

    assert having(check(prescription), "RX-03", Severity.BLOCK, "dosed in 'mg'")


@pytest.mark.parametrize("field", ["dose", "times", "days", "packs"])
def test_zero_amounts_are_refused_not_crashed_on(
    item: Item, draft: Draft, check: Check, having: Having, field: str
) -> None:
    amounts = {"dose": 5, "times": 1, "days": 7, "packs": 1} | {field: 0}
    line = item(AMLODIPINE, amounts["dose"], times=amounts["times"], days=amounts["days"], packs=amounts["packs"])

    assert having(check(draft(line)), "RX-03", Severity.BLOCK, "must all be positive")


def test_half_a_controlled_release_tablet_is_flagged(item: Item, draft: Draft, check: Check, having: Having) -> None:
    assert having(check(draft(item(NIFEDIPINE_CR, 15))), "RX-03", Severity.WARN, "not a dispensable dose")
    assert having(check(draft(item(AMLODIPINE, "2.5"))), "RX-03", Severity.WARN, "not a dispensable dose") == []


def test_more_than_seven_days_without_a_recorded_reason_is_refused(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(AMLODIPINE, 5, days=28))

    assert having(check(prescription), "RX-03", Severity.BLOCK, "needs a recorded reason")


def test_a_four_week_long_prescription_for_a_chronic_disease_with_a_reason_passes(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    findings = check(draft(item(AMLODIPINE, 5, days=28), long_prescription_reason=REASON))

    assert having(findings, "RX-03", Severity.BLOCK) == []
    assert having(findings, "RX-03", Severity.INFO, "long prescription for a chronic disease")


def test_a_long_prescription_over_four_weeks_asks_for_assessment(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    findings = check(draft(item(AMLODIPINE, 5, days=56), long_prescription_reason=REASON))

    assert having(findings, "RX-03", Severity.BLOCK) == []
    assert having(findings, "RX-03", Severity.WARN, "over 4 weeks")


def test_thirteen_weeks_are_refused_even_with_a_reason(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item(AMLODIPINE, 5, days=91), long_prescription_reason=REASON)

    assert having(check(prescription), "RX-03", Severity.BLOCK, "never exceeds 12 weeks")


def test_an_antimicrobial_is_never_a_long_prescription(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(
        item(AMOXICILLIN, 500, times=3, days=28), diagnoses=("J02.9",), long_prescription_reason=REASON
    )

    assert having(check(prescription), "RX-03", Severity.BLOCK, "antimicrobials and specially managed drugs are never")


def test_a_fourteen_day_eradication_course_with_a_reason_goes_to_the_pharmacist(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(
        item(AMOXICILLIN, 1000, times=2, days=14),
        diagnoses=("K25.9",),
        long_prescription_reason="幽门螺杆菌根除 14 天疗程",
    )

    findings = check(prescription)

    assert having(findings, "RX-03", Severity.BLOCK) == []
    assert having(findings, "RX-03", Severity.WARN, "extended course")


def test_a_chronic_drug_for_an_acute_disease_is_not_a_long_prescription(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(
        item("N02BE01-tab-500mg", 500, times=3, days=14), diagnoses=("J06.9",), long_prescription_reason="x"
    )

    assert having(check(prescription), "RX-03", Severity.BLOCK, "not a long-prescription drug")


def test_too_few_packs_for_the_days_supply_are_flagged(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(
        item(VALSARTAN, 80, days=28, packs=1), item(AMLODIPINE, 10, days=28, packs=1), long_prescription_reason=REASON
    )

    short = having(check(prescription), "RX-03", Severity.WARN, "not enough")

    assert [f.message.split(":")[0] for f in short] == [f"苯磺酸氨氯地平片 (amlodipine 5 mg, {AMLODIPINE})"]


def test_packs_grossly_beyond_the_days_supply_are_refused(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    one_extra = check(draft(item(AMLODIPINE, 5, packs=2)))
    many_extra = check(draft(item(AMLODIPINE, 5, packs=3)))

    assert having(one_extra, "RX-03", Severity.WARN, "one pack more than needed")
    assert having(one_extra, "RX-03", Severity.BLOCK) == []
    assert having(many_extra, "RX-03", Severity.BLOCK, "far more than the days' supply")


def test_the_same_substance_twice_is_refused(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item(AMLODIPINE, 5), item(AMLODIPINE, 5))

    assert having(check(prescription), "RX-03", Severity.BLOCK, "amlodipine (C08CA01) is on 2 lines")


def test_a_substance_already_supplied_by_an_effective_prescription_is_flagged(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(AMLODIPINE, 5), current_effective_items=(AMLODIPINE,))

    assert having(check(prescription), "RX-03", Severity.WARN, "already supplied")


@pytest.mark.parametrize(("days", "severity"), [(0, Severity.BLOCK), (3, Severity.INFO), (4, Severity.BLOCK)])
def test_validity_is_the_day_of_issue_and_at_most_three_days(
    item: Item, draft: Draft, check: Check, having: Having, days: int, severity: Severity
) -> None:
    prescription = draft(item(AMLODIPINE, 5), validity_days=days)

    assert having(check(prescription), "RX-03", severity, "alidity")


def test_a_high_amount_is_flagged_for_the_pharmacist_above_the_configured_threshold(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    copd = draft(
        item("R03AK06-dpi-50-250mcg", 1, times=2, days=84),
        item("R03BB04-inhcap-18mcg", 18, days=84),
        diagnoses=("J44.9",),
        long_prescription_reason="慢阻肺稳定期，方案稳定",
    )

    assert having(check(copd), "RX-03", Severity.WARN, "Total ¥1488.00")
    assert (
        having(check(copd, RxSettings(high_amount_threshold_cny=Decimal(2000))), "RX-03", Severity.WARN, "Total") == []
    )
