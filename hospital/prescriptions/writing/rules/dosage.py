"""Dosage and quantity rules (RX-03): number of drugs, each dose, day and week against the label maxima at an
allowed frequency, a child's dose per kg and age, days supply and long
prescriptions, quantity against dose × days, duplicated substances, validity and high amounts. Pure."""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal

from hospital.core.rule_registry import Finding, Severity, rule
from hospital.prescriptions.formulary.values import FREQUENCIES, Drug, Formulary, Frequency
from hospital.prescriptions.writing.values import (
    CHILD_AGE_LIMIT,
    LONG_PRESCRIBER_TITLES,
    ExtraQuantityReason,
    LongPrescriptionReason,
    PrescribedItem,
    PrescriptionDraft,
    ReviewCategory,
    RxSettings,
    icd10_category,
)

__all__ = [
    "DOSAGE_RULES",
    "at_most_five_drugs",
    "child_dose_within_the_label",
    "days_supply_within_limits",
    "dose_within_the_label_maxima",
    "every_item_states_its_usage",
    "items_are_well_formed",
    "no_duplicated_substance",
    "quantity_matches_dose_and_days",
    "total_amount_flagged_when_high",
    "validity_within_three_days",
]

BLOCK, WARN, INFO = Severity.BLOCK, Severity.WARN, Severity.INFO
NON_STANDARD, UNSUITABLE, EXCESSIVE = ReviewCategory.NON_STANDARD, ReviewCategory.UNSUITABLE, ReviewCategory.EXCESSIVE
MAX_DRUGS = 5  # 处方管理办法 第六条: 每张处方不得超过5种药品
DEFAULT_DAYS = 7  # 处方管理办法 第十九条: 处方一般不得超过7日用量
LONG_USUAL_DAYS = 28  # 长期处方管理规范（试行）: 处方量一般在4周内
LONG_MAX_DAYS = 84  # 长期处方管理规范（试行）: 最长不超过12周
MAX_VALIDITY_DAYS = 3  # 处方管理办法 第十八条: 有效期最长不得超过3天
WHOLE_UNITS = frozenset({"capsule", "actuation", "inhalation", "patch", "sachet"})
UNSPLITTABLE_FORMS = ("release", "enteric", "gastro-resistant")


def _finding(severity: Severity, category: ReviewCategory, message: str, zh: str = "") -> Finding:
    return Finding("RX-03", severity, message, category, detail_zh=zh)


def _dose_checkable(item: PrescribedItem, drug: Drug) -> bool:
    """Whether the item's numbers are usable: all positive, and the dose in the drug's dose unit."""
    counts = (item.times_per_day, item.interval_days, item.days_supply, item.quantity_packs)
    return item.dose_per_time > 0 and min(counts) >= 1 and item.dose_unit == drug.dose_unit


def _dispensable(drug: Drug, units: Decimal) -> bool:
    """Whole units, or half tablets for plain tablets; modified-release forms are never split."""
    if drug.dispensing_unit in WHOLE_UNITS or any(word in drug.form for word in UNSPLITTABLE_FORMS):
        return units == units.to_integral_value()
    if drug.dispensing_unit == "tablet":
        return units * 2 == (units * 2).to_integral_value()
    return True


@rule("RX-03", "At most five drugs on one prescription", source="处方管理办法 第六条; 处方点评规范 不规范处方")
def at_most_five_drugs(draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings) -> list[Finding]:
    if len(draft.items) <= MAX_DRUGS:
        return []
    return [_finding(BLOCK, NON_STANDARD, f"{len(draft.items)} drugs on one prescription; at most {MAX_DRUGS}.")]


@rule(
    "RX-03",
    "Dose, frequency, days and quantity are stated in the drug's dose unit",
    source="处方管理办法 第六条; 处方点评规范 不规范处方: 剂量、规格、数量、单位书写不规范",
)
def items_are_well_formed(draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings) -> list[Finding]:
    findings = []
    for item, drug in formulary.lines(draft.items):
        if item.dose_unit != drug.dose_unit:
            message = f"{drug.label}: dose written in {item.dose_unit!r}; this product is dosed in {drug.dose_unit!r}."
            findings.append(_finding(BLOCK, NON_STANDARD, message))
        elif not _dose_checkable(item, drug):
            message = f"{drug.label}: dose, times per day, interval, days and packs must all be positive."
            findings.append(_finding(BLOCK, NON_STANDARD, message))
        elif not _dispensable(drug, drug.dispensing_units_per_dose(item.dose_per_time)):
            message = f"{drug.label}: {item.dose_per_time} {item.dose_unit} is not a dispensable dose of a {drug.form}."
            findings.append(_finding(WARN, UNSUITABLE, message))
    return findings


@rule(
    "RX-03",
    "Every item states its usage (用法), the route of administration first",
    source="处方管理办法 第六条; 处方点评规范 不规范处方 (用法、用量含糊不清); 监管平台 orderList[].admission",
)
def every_item_states_its_usage(draft: PrescriptionDraft, formulary: Formulary,
                                settings: RxSettings) -> list[Finding]:
    """An item without its route is refused at writing: the platform refuses it later (-99 orderList[].admission),
    after the patient was told the prescription stands."""
    findings = []
    for item in draft.items:
        if not item.route:
            drug = formulary.get(item.drug_code)
            label = drug.label if drug is not None else item.drug_code
            findings.append(_finding(BLOCK, NON_STANDARD, f"{label}: the usage (用法) must state the route of "
                                                          "administration first, e.g. 口服 or 口服，早餐后."))
    return findings


def _amount(value: Decimal, drug: Drug) -> str:
    return f"{value.normalize():f} {drug.dose_unit}"


def _frequency_findings(item: PrescribedItem, drug: Drug) -> list[Finding]:
    """The frequency is a prescription code, agrees with the times and interval written, and the label allows it."""
    code = item.frequency_code
    spelled = f"{item.times_per_day} time(s) every {item.interval_days} day(s)"
    if code is None:
        written = f"frequency {item.frequency!r}" if item.frequency is not None else spelled
        return [_finding(BLOCK, NON_STANDARD, f"{drug.label}: {written} is not a prescription frequency "
                                              f"({', '.join(f.value for f in Frequency)}).")]
    schedule = FREQUENCIES[code]
    expected_times = schedule.times_per_day if schedule.times_per_day is not None else item.times_per_day
    if (expected_times, schedule.interval_days) != (item.times_per_day, item.interval_days):
        return [_finding(BLOCK, NON_STANDARD, f"{drug.label}: {code.value} does not match {spelled}.")]
    findings = []
    if code not in drug.frequencies:
        allowed = ", ".join(sorted(f.value for f in drug.frequencies))
        findings.append(_finding(BLOCK, UNSUITABLE, f"{drug.label}: {code.value} is not a frequency its label allows "
                                                    f"({allowed}) ({drug.source})."))
    if code is Frequency.PRN and drug.prn_max_per_day is not None and item.times_per_day > drug.prn_max_per_day:
        findings.append(_finding(BLOCK, EXCESSIVE, f"{drug.label}: as needed up to {item.times_per_day} times a day; "
                                                   f"the label allows at most {drug.prn_max_per_day}."))
    return findings


@rule(
    "RX-03",
    "Each administration, each day and each week stay within the label maxima, at an allowed frequency",
    source="处方管理办法 第六条 (按说明书常规用法用量); 中国药典 极量; 处方点评规范 超常处方: 超说明书用药; "
           "用药不适宜处方: 用法、用量不适宜",
)
def dose_within_the_label_maxima(
    draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings
) -> list[Finding]:
    # The single dose is checked whatever the interval: 310 mg of amlodipine once a month is 310 mg that day.
    findings = []
    for item, drug in formulary.lines(draft.items):
        if not _dose_checkable(item, drug):
            continue
        findings += _frequency_findings(item, drug)
        limits = (
            ("single dose", item.dose_per_time, drug.max_single_dose, "per administration", "单次", "每次"),
            ("in one day", item.daily_dose, drug.max_daily_dose, "a day", "每日", "每日"),
        )
        for what, value, maximum, per, what_zh, per_zh in limits:
            if maximum is None:
                message = (f"{drug.label}: {_amount(value, drug)} {what}; the label sets no maximum {per}, "
                           "so the pharmacist checks the dose.")
                zh = f"{drug.name_zh}：{what_zh} {_amount(value, drug)}，说明书未规定{per_zh}最大量，由药师审核剂量。"
                findings.append(_finding(WARN, UNSUITABLE, message, zh))
            elif value > maximum:
                message = (f"{drug.label}: {_amount(value, drug)} {what} exceeds the label maximum of "
                           f"{_amount(maximum, drug)} {per} ({drug.source}).")
                zh = (f"{drug.name_zh}：{what_zh} {_amount(value, drug)}，超过说明书{per_zh}最大量 "
                      f"{_amount(maximum, drug)}。")
                findings.append(_finding(BLOCK, EXCESSIVE, message, zh))
        if drug.max_weekly_dose is not None and item.weekly_dose > drug.max_weekly_dose:
            message = (f"{drug.label}: {_amount(item.weekly_dose, drug)} in 7 days exceeds the label maximum of "
                       f"{_amount(drug.max_weekly_dose, drug)} a week ({drug.source}).")
            zh = (f"{drug.name_zh}：7 天内 {_amount(item.weekly_dose, drug)}，超过说明书每周最大量 "
                  f"{_amount(drug.max_weekly_dose, drug)}。")
            findings.append(_finding(BLOCK, EXCESSIVE, message, zh))
    return findings


@rule(
    "RX-03",
    "A child's dose: never under the label's minimum age, at most the label's dose per kg of a weight recorded "
    "in this visit",
    source="处方管理办法 第六条; 说明书 儿童用法用量; 处方点评规范 用药不适宜: 特殊人群用药不适宜",
)
def child_dose_within_the_label(
    draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings
) -> list[Finding]:
    age = draft.patient_age_years
    if age >= CHILD_AGE_LIMIT or draft.patient_birth_date > draft.issued_on:
        return []
    findings = []
    for item, drug in formulary.lines(draft.items):
        if drug.child_min_age_years is not None and age < drug.child_min_age_years:
            message = (f"{drug.label}: not for children under {drug.child_min_age_years}; the patient is {age} "
                       f"({drug.source}).")
            findings.append(_finding(BLOCK, UNSUITABLE, message))
        elif drug.child_max_daily_dose_per_kg is not None and _dose_checkable(item, drug):
            per_kg = drug.child_max_daily_dose_per_kg
            if draft.weight_kg is None:
                message = (f"{drug.label}: a child's dose is at most {_amount(per_kg, drug)}/kg a day; record the "
                           "child's weight in this visit first.")
                findings.append(_finding(BLOCK, UNSUITABLE, message))
            elif item.daily_dose > per_kg * draft.weight_kg:
                limit = (per_kg * draft.weight_kg).quantize(Decimal("0.01"))
                message = (f"{drug.label}: {_amount(item.daily_dose, drug)} a day exceeds {_amount(per_kg, drug)}/kg "
                           f"for {draft.weight_kg} kg ({_amount(limit, drug)}) ({drug.source}).")
                findings.append(_finding(BLOCK, EXCESSIVE, message))
        else:
            message = (f"{drug.label}: the label gives no children's dose; the pharmacist checks it for a child of "
                       f"{age}.")
            findings.append(_finding(WARN, UNSUITABLE, message))
    return findings


def _long_prescription_eligible(drug: Drug, draft: PrescriptionDraft, formulary: Formulary) -> bool:
    """A chronic drug, neither controlled nor antimicrobial, indicated for one of the visit's chronic diseases."""
    if not drug.chronic or drug.is_controlled or drug.is_antimicrobial:
        return False
    categories = {c for code in draft.diagnoses_icd10 if (c := icd10_category(code))}
    return any(i.chronic and i.indicates(drug.atc_code) for c in categories for i in formulary.indications_for(c))


def _supply_verdict(drug: Drug, days: int, reason: str, eligible: bool, settings: RxSettings,
                    draft: PrescriptionDraft) -> tuple[Severity, str] | None:
    """How a days supply above the default (7 days, or the hospital's stricter setting) is judged, or None."""
    if days <= settings.default_max_days:
        return None
    if days > settings.long_max_days:
        return BLOCK, (f"a long prescription never exceeds 12 weeks ({LONG_MAX_DAYS} days, 长期处方管理规范), "
                       f"nor this hospital's {settings.long_max_days} days.")
    if not reason:
        return BLOCK, f"more than {settings.default_max_days} days needs a recorded reason (处方管理办法 第十九条)."
    code = draft.long_prescription_code
    if code not in {r.value for r in LongPrescriptionReason}:
        codes = ", ".join(r.value for r in LongPrescriptionReason)
        return BLOCK, f"more than {settings.default_max_days} days needs a coded reason ({codes}), not only a note."
    if eligible and code == LongPrescriptionReason.TREATMENT_COURSE:
        return BLOCK, "a long prescription for a chronic disease gives a long-prescription reason, not a course."
    if eligible and draft.prescriber_title.strip() not in LONG_PRESCRIBER_TITLES:
        return BLOCK, (f"a long prescription is written by a doctor of intermediate title or above "
                       f"({'、'.join(sorted(LONG_PRESCRIBER_TITLES))}; 长期处方管理规范 第十二条), "
                       f"not {draft.prescriber_title or 'an unknown title'}.")
    limit = drug.usual_days_supply_limit
    course = code == LongPrescriptionReason.TREATMENT_COURSE
    if drug.is_antimicrobial or drug.is_controlled:
        if not course:
            return BLOCK, ("antimicrobials and specially managed drugs are never long prescriptions "
                           "(长期处方管理规范（试行）第四条); only a treatment course within the drug's limit.")
        if days > limit:
            return BLOCK, f"this drug's course limit is {limit} days (长期处方管理规范)."
        return WARN, "an extended course with a recorded reason; the pharmacist confirms it."
    if eligible and days > LONG_USUAL_DAYS:
        return WARN, "over 4 weeks: the doctor assesses, records it and the patient confirms (长期处方管理规范)."
    if eligible:
        return INFO, "a long prescription for a chronic disease, reason recorded."
    # Not eligible: no diagnosis of this visit is a chronic disease of disease_drug_classes.csv that this drug
    # treats. A long-prescription reason is refused; only a course of a non-chronic drug, within its limit, is
    # the "special circumstance" of 处方管理办法 第十九条.
    if not course or drug.chronic:
        return BLOCK, ("a long prescription is only for a chronic disease of the reviewed table "
                       "(disease_drug_classes.csv, by ICD-10 category) that this drug treats; this visit has none.")
    if days > limit:
        return BLOCK, f"a course of this drug is at most {limit} days."
    return WARN, "an extended course with a recorded reason; the pharmacist confirms it."


@rule(
    "RX-03",
    "7 days' supply unless a reason is recorded; long prescriptions only for chronic drugs and never over 12 weeks",
    source="处方管理办法 第十九条; 长期处方管理规范（试行）（国卫办医发〔2021〕17号）",
)
def days_supply_within_limits(draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings) -> list[Finding]:
    reason = (draft.long_prescription_reason or "").strip()
    findings = []
    for item, drug in formulary.lines(draft.items):
        eligible = _long_prescription_eligible(drug, draft, formulary)
        verdict = _supply_verdict(drug, item.days_supply, reason, eligible, settings, draft)
        if verdict is not None:
            severity, text = verdict
            findings.append(_finding(severity, NON_STANDARD, f"{drug.label}: {item.days_supply} days' supply — {text}"))
    return findings


@rule(
    "RX-03",
    "The quantity dispensed is at most dose × days in whole packs, one pack more only with a coded reason",
    source="SP 规范用药 超量处方; 处方管理办法 第十九条; 医院处方点评管理规范（试行）第十九条 超常处方",
)
def quantity_matches_dose_and_days(
    draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings
) -> list[Finding]:
    # dose × days rounded up to whole packs is the most dispensed; one pack more only with a coded reason
    # (ExtraQuantityReason: a spare inhaler, titration…) that the pharmacist sees and acknowledges; more than
    # one pack over would hand over a supply beyond the days the prescription was checked for.
    codes = {r.value for r in ExtraQuantityReason}
    findings = []
    for item, drug in formulary.lines(draft.items):
        if not _dose_checkable(item, drug):
            continue
        dosing_days = math.ceil(item.days_supply / item.interval_days)
        units = drug.dispensing_units_per_dose(item.dose_per_time) * item.times_per_day * dosing_days
        needed = max(1, math.ceil(units / drug.pack_size))
        what = (
            f"{drug.label}: {item.quantity_packs} pack(s) of {drug.pack_size} {drug.dispensing_unit}; "
            f"{item.days_supply} days need {units.normalize():f} ({needed} pack(s))"
        )
        if item.quantity_packs < needed:
            findings.append(_finding(WARN, UNSUITABLE, f"{what}: not enough for the days' supply."))
        elif item.quantity_packs > needed + 1:
            findings.append(_finding(BLOCK, EXCESSIVE, f"{what}: far more than the days' supply."))
        elif item.quantity_packs > needed and item.extra_quantity_code not in codes:
            findings.append(_finding(BLOCK, EXCESSIVE, f"{what}: one pack more than needed needs a coded reason "
                                                       f"({', '.join(sorted(codes))})."))
        elif item.quantity_packs > needed:
            findings.append(_finding(WARN, EXCESSIVE, f"{what}: one pack more than needed, reason "
                                                      f"{item.extra_quantity_code}; the pharmacist confirms it."))
    return findings


@rule(
    "RX-03",
    "No substance twice on a prescription, nor already supplied by one still in effect",
    source="处方点评规范 用药不适宜: 重复给药; SP 规范用药",
)
def no_duplicated_substance(draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings) -> list[Finding]:
    # Under RX-03 rather than RX-04: two lines of one substance each pass the per-line maximum while the
    # patient takes double, so a duplicate is a hole in the dose check.
    lines = formulary.lines(draft.items)
    by_substance = {drug.atc_code: drug for _, drug in lines}
    findings = []
    for atc, count in sorted(Counter(drug.atc_code for _, drug in lines).items()):
        if count > 1:
            name = by_substance[atc].generic_name
            findings.append(_finding(BLOCK, UNSUITABLE, f"{name} ({atc}) is on {count} lines (重复给药)."))
    current = {d.atc_code: d for code in draft.current_effective_items if (d := formulary.get(code))}
    for atc in sorted(by_substance.keys() & current.keys()):
        message = f"{current[atc].label} is already supplied by a prescription still in effect (重复给药)."
        findings.append(_finding(WARN, UNSUITABLE, message))
    return findings


@rule("RX-03", "Valid on the day of issue; extended to at most 3 days", source="处方管理办法 第十八条")
def validity_within_three_days(draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings) -> list[Finding]:
    days = draft.validity_days
    if days < 1 or days > MAX_VALIDITY_DAYS:
        message = (
            f"Validity of {days} day(s): a prescription is valid on the day of issue, "
            f"extended to at most {MAX_VALIDITY_DAYS} days (处方管理办法 第十八条)."
        )
        return [_finding(BLOCK, NON_STANDARD, message)]
    if days > 1:
        return [_finding(INFO, NON_STANDARD, f"Validity extended by the doctor to {days} days.")]
    return []


@rule("RX-03", "A high-amount prescription is flagged for the pharmacist", source="SP 规范用药 大额度处方")
def total_amount_flagged_when_high(
    draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings
) -> list[Finding]:
    total = sum((drug.price_cny * item.quantity_packs for item, drug in formulary.lines(draft.items)), Decimal(0))
    threshold = settings.high_amount_threshold_cny
    if total <= threshold:
        return []
    message = f"Total ¥{total:.2f} is above the ¥{threshold} threshold: the pharmacist confirms it (大额度处方)."
    return [_finding(WARN, EXCESSIVE, message)]


DOSAGE_RULES = (
    at_most_five_drugs,
    items_are_well_formed,
    every_item_states_its_usage,
    dose_within_the_label_maxima,
    child_dose_within_the_label,
    days_supply_within_limits,
    quantity_matches_dose_and_days,
    no_duplicated_substance,
    validity_within_three_days,
    total_amount_flagged_when_high,
)
