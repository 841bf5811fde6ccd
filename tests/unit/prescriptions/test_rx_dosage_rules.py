"""RX-03: number of drugs, label maximum, days supply and long prescriptions, quantity, duplicates, validity,
high amounts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from hospital.core.rule_registry import Finding, Severity
from hospital.prescriptions.formulary.values import Formulary
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
SILDENAFIL = "G04BE03-tab-50mg"
LEVOFLOXACIN = "J01MA12-tab-500mg"
SALBUTAMOL = "R03AC02-aer-100mcg"
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


def test_a_weekly_tablet_is_checked_against_its_weekly_maximum(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    weekly = draft(item(ALENDRONATE, 70, interval=7, days=28), diagnoses=("M81.0",), long_prescription_reason=REASON)
    daily = draft(item(ALENDRONATE, 70, days=7), diagnoses=("M81.0",))
    small_daily = draft(item(ALENDRONATE, 10, days=7), diagnoses=("M81.0",))

    assert having(check(weekly), "RX-03", Severity.BLOCK) == []
    assert having(check(small_daily), "RX-03", Severity.BLOCK) == []
    # 70 mg a day: within the single and the daily maximum, 490 mg in 7 days
    assert having(check(daily), "RX-03", Severity.BLOCK, "490 mg in 7 days exceeds the label maximum of 70 mg a week")


@pytest.mark.parametrize(("dose", "interval"), [(70, 7), (310, 31), (20, 2), (15, 1)],
                         ids=["70mg-weekly", "310mg-monthly", "20mg-every-other-day", "15mg-daily"])
def test_a_single_dose_above_the_label_maximum_is_refused_at_any_interval(
    item: Item, draft: Draft, check: Check, having: Having, dose: int, interval: int
) -> None:
    prescription = draft(item(AMLODIPINE, dose, interval=interval, days=7 if interval <= 7 else interval, packs=1))

    refused = having(check(prescription), "RX-03", Severity.BLOCK, "single dose exceeds the label maximum of 10 mg")

    assert len(refused) == 1 and refused[0].category == ReviewCategory.EXCESSIVE


def test_a_frequency_the_label_does_not_allow_is_refused(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    twice_daily = draft(item(AMLODIPINE, "2.5", times=2))
    every_three_weeks = draft(item(AMLODIPINE, 5, interval=21, days=21, packs=1))

    assert having(check(twice_daily), "RX-03", Severity.BLOCK, "bid is not a frequency its label allows")
    assert having(check(every_three_weeks), "RX-03", Severity.BLOCK, "is not a prescription frequency")
    assert having(check(draft(item(AMLODIPINE, 5, frequency="qn"))), "RX-03", Severity.BLOCK, "qn is not a frequency")
    assert having(check(draft(item(AMLODIPINE, 5, frequency="bid"))), "RX-03", Severity.BLOCK, "bid does not match")


def test_as_needed_is_bounded_by_the_labels_most_a_day(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    once = draft(item(SILDENAFIL, 50, times=1, frequency="prn", days=7), diagnoses=("N52.9",))
    twice = draft(item(SILDENAFIL, 50, times=2, frequency="prn", days=7), diagnoses=("N52.9",))

    assert having(check(once), "RX-03", Severity.BLOCK) == []
    assert having(check(twice), "RX-03", Severity.BLOCK, "the label allows at most 1")


def test_twice_a_week_counts_one_dose_a_day_and_two_a_week(
    item: Item, draft: Draft, check: Check, having: Having, formulary: Formulary
) -> None:
    line = item(ALENDRONATE, 35, times=2, interval=7, frequency="biw", days=28)

    assert (line.daily_dose, line.weekly_dose) == (35, 70)
    assert having(check(draft(line, diagnoses=("M81.0",), long_prescription_reason=REASON)), "RX-03", Severity.BLOCK,
                  "biw is not a frequency its label allows")


def test_a_childs_dose_is_checked_per_kg_of_the_weight_recorded_in_the_visit(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    child = {"diagnoses": ("J02.9",), "patient_birth_date": date(2017, 1, 10)}  # 8 years old

    within = draft(item(AMOXICILLIN, 250, times=3), weight_kg=Decimal(20), **child)  # 750 mg ≤ 40 mg/kg × 20 kg
    above = draft(item(AMOXICILLIN, 500, times=3), weight_kg=Decimal(20), **child)  # 1500 mg > 800 mg
    unweighed = draft(item(AMOXICILLIN, 250, times=3), **child)
    adult = draft(item(AMOXICILLIN, 500, times=3), diagnoses=("J02.9",), weight_kg=Decimal(20))

    assert having(check(within), "RX-03", Severity.BLOCK) == []
    assert having(check(above), "RX-03", Severity.BLOCK, "1500 mg a day exceeds 40 mg/kg for 20 kg (800 mg)")
    assert having(check(unweighed), "RX-03", Severity.BLOCK, "record the child's weight")
    assert having(check(adult), "RX-03", Severity.BLOCK) == []  # 40 mg/kg is a child's limit


def test_a_drug_not_for_children_under_an_age_is_refused_to_a_younger_child(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    ten = draft(item(LEVOFLOXACIN, 500), diagnoses=("J02.9",), patient_birth_date=date(2015, 1, 10),
                weight_kg=Decimal(30))

    assert having(check(ten), "RX-03", Severity.BLOCK, "not for children under 18")


def test_a_childs_drug_without_a_paediatric_dose_goes_to_the_pharmacist(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    twelve = draft(item(SALBUTAMOL, 100, frequency="prn", times=4), diagnoses=("J45.9",),
                   patient_birth_date=date(2013, 1, 10))

    assert having(check(twelve), "RX-03", Severity.WARN, "the label gives no children's dose")


def test_a_drug_whose_label_sets_no_maximum_goes_to_the_pharmacist(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(item(WARFARIN, 5), diagnoses=("I48.0",))

    assert having(check(prescription), "RX-03", Severity.WARN, "the label sets no maximum per administration")
    assert having(check(prescription), "RX-03", Severity.WARN, "the label sets no maximum a day")


def test_a_dose_in_the_wrong_unit_is_refused(item: Item, draft: Draft, check: Check, having: Having) -> None:
    prescription = draft(item(AMLODIPINE, 1, unit="tablet"))

    assert having(check(prescription), "RX-03", Severity.BLOCK, "dosed in 'mg'")


@pytest.mark.parametrize("usage", ["", "   ", "，早餐后", ",饭后"])
def test_an_item_without_its_route_of_administration_is_refused(
    item: Item, draft: Draft, check: Check, having: Having, usage: str
) -> None:
    """The platform refuses an item without its route (-99 orderList[].admission): writing refuses it first."""
    refused = having(check(draft(item(AMLODIPINE, 5, usage=usage))), "RX-03", Severity.BLOCK, "用法")
    assert [f.category for f in refused] == [ReviewCategory.NON_STANDARD]
    assert not having(check(draft(item(AMLODIPINE, 5, usage="口服，早餐后"))), "RX-03", Severity.BLOCK)


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
        long_prescription_reason="幽门螺杆菌根除 14 天疗程", long_prescription_code="treatment_course",
    )

    findings = check(prescription)

    assert having(findings, "RX-03", Severity.BLOCK) == []
    assert having(findings, "RX-03", Severity.WARN, "extended course")


def test_an_antimicrobial_is_refused_with_any_long_prescription_reason(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    for code in ("stable_chronic_disease", "elderly_chronic", "limited_mobility", "remote_residence"):
        prescription = draft(item(AMOXICILLIN, 1000, times=2, days=14), diagnoses=("K25.9",),
                             long_prescription_reason="长期用药", long_prescription_code=code)
        assert having(check(prescription), "RX-03", Severity.BLOCK, "never long prescriptions"), code


def test_a_long_prescription_for_a_disease_outside_the_chronic_table_is_refused(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    # amlodipine is a chronic drug, but J06.9 (acute upper respiratory infection) is no chronic disease it treats
    for code in ("stable_chronic_disease", "treatment_course"):
        prescription = draft(item(AMLODIPINE, 5, days=28), diagnoses=("J06.9",), long_prescription_reason="长期用药",
                             long_prescription_code=code)
        assert having(check(prescription), "RX-03", Severity.BLOCK, "only for a chronic disease"), code
    hypertension = draft(item(AMLODIPINE, 5, days=28), long_prescription_reason="长期用药")
    assert having(check(hypertension), "RX-03", Severity.BLOCK) == []


def test_a_chronic_drug_for_an_acute_disease_is_not_a_long_prescription(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    prescription = draft(
        item("N02BE01-tab-500mg", 500, times=3, days=14), diagnoses=("J06.9",), long_prescription_reason="x"
    )

    assert having(check(prescription), "RX-03", Severity.BLOCK, "only for a chronic disease")


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
    with_a_reason = check(draft(dataclasses.replace(item(AMLODIPINE, 5, packs=2), extra_quantity_code="dose_titration")))
    with_a_note = check(draft(dataclasses.replace(item(AMLODIPINE, 5, packs=2), extra_quantity_code="just in case")))
    many_extra = check(draft(dataclasses.replace(item(AMLODIPINE, 5, packs=3), extra_quantity_code="dose_titration")))

    assert having(one_extra, "RX-03", Severity.BLOCK, "one pack more than needed needs a coded reason")
    assert having(with_a_note, "RX-03", Severity.BLOCK, "one pack more than needed needs a coded reason")
    assert having(with_a_reason, "RX-03", Severity.WARN, "one pack more than needed, reason dose_titration")
    assert having(with_a_reason, "RX-03", Severity.BLOCK) == []
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
    tiotropium = draft(item("R03BB04-inhcap-18mcg", 18, days=56), diagnoses=("J44.9",),
                       long_prescription_reason="慢阻肺稳定期，方案稳定")  # two packs, ¥596
    assert having(check(tiotropium), "RX-03", Severity.WARN, "Total") == []
    assert having(check(tiotropium, RxSettings(high_amount_threshold_cny=Decimal(500))), "RX-03", Severity.WARN,
                  "Total ¥596.00 is above the ¥500 threshold")


def test_a_stricter_hospital_setting_applies_and_one_beyond_the_regulation_is_refused(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    five_days = RxSettings(default_max_days=5, high_amount_threshold_cny=Decimal(500))

    assert having(check(draft(item(AMLODIPINE, 5, days=6)), settings=five_days), "RX-03", Severity.BLOCK,
                  "more than 5 days needs a recorded reason")
    assert having(check(draft(item(AMLODIPINE, 5, days=6))), "RX-03", Severity.BLOCK) == []
    for beyond in ({"default_max_days": 8}, {"long_max_days": 90}, {"high_amount_threshold_cny": Decimal(1001)}):
        with pytest.raises(ValueError, match="beyond the regulation"):
            RxSettings(**beyond)  # type: ignore[arg-type]


def test_the_hospital_refuses_to_start_with_thresholds_beyond_the_regulation() -> None:
    from hospital.config import ConfigurationError, load_settings

    assert load_settings({}).rx_default_max_days == 7
    load_settings({"HOSPITAL_RX_DEFAULT_MAX_DAYS": "5"}).check()
    for name, value in (("HOSPITAL_RX_DEFAULT_MAX_DAYS", "14"), ("HOSPITAL_RX_LONG_MAX_DAYS", "120"),
                        ("HOSPITAL_RX_HIGH_AMOUNT_CNY", "5000")):
        with pytest.raises(ConfigurationError, match="beyond the regulation"):
            load_settings({name: value}).check()


def test_a_long_prescription_needs_a_coded_reason_and_a_doctor_of_intermediate_title(
    item: Item, draft: Draft, check: Check, having: Having
) -> None:
    line = item(AMLODIPINE, 5, days=28)

    for code in (None, "because", "treatment_course"):
        assert having(check(draft(line, long_prescription_reason=REASON, long_prescription_code=code)), "RX-03",
                      Severity.BLOCK, "reason"), code
    assert having(check(draft(line, long_prescription_reason=REASON, long_prescription_code="limited_mobility")),
                  "RX-03", Severity.BLOCK) == []
    for title in ("住院医师", ""):
        assert having(check(draft(line, long_prescription_reason=REASON, prescriber_title=title)), "RX-03",
                      Severity.BLOCK, "intermediate title or above"), title
    assert having(check(draft(line, long_prescription_reason=REASON, prescriber_title="主治医师")), "RX-03",
                  Severity.BLOCK) == []


def test_two_findings_of_one_rule_name_their_drugs_so_they_read_differently_in_chinese(
        item: Item, draft: Draft, check: Check, having: Having) -> None:
    """Issue 14: on a Chinese page a finding is its rule's reason; two of one rule name what each is about."""
    from hospital.prescriptions.queries import findings_json

    found = having(check(draft(item(AMLODIPINE, 10, times=2), item(VALSARTAN, 320, times=2))), "RX-03",
                   Severity.BLOCK, "exceeds the label maximum")
    shown = findings_json(found)
    assert len(shown) == 3 and len({f["title"]["zh"] for f in shown}) == 1  # one rule …
    assert [f["subject"] for f in shown] == ["苯磺酸氨氯地平片", "缬沙坦胶囊", "缬沙坦胶囊"]  # … about two drugs …
    # … and valsartan twice, its single dose and its daily dose: each says which, in Chinese
    assert [f["detail_zh"] for f in shown] == ["苯磺酸氨氯地平片：每日 20 mg，超过说明书每日最大量 10 mg。",
                                               "缬沙坦胶囊：单次 320 mg，超过说明书每次最大量 160 mg。",
                                               "缬沙坦胶囊：每日 640 mg，超过说明书每日最大量 160 mg。"]
