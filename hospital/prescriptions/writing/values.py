"""Plain values the prescription rules work on: the draft a doctor submits, its items, and settings.

Nothing here touches a database or the network; the service builds a `PrescriptionDraft` from its records
and hands it, with the loaded `Formulary`, to `rules.check_prescription`. The drug classes are the
formulary's (`hospital.prescriptions.formulary.values`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hospital.prescriptions.formulary.values import FREQUENCIES, Frequency, Impairment

CHILD_AGE_LIMIT = 14  # 儿科诊疗范围: under 14 a patient is dosed as a child (per kg, the label's age limits)

__all__ = [
    "CHILD_AGE_LIMIT",
    "LONG_PRESCRIBER_TITLES",
    "DraftOrigin",
    "ExtraQuantityReason",
    "LongPrescriptionReason",
    "PrescribedItem",
    "PrescriptionDraft",
    "ReviewCategory",
    "RxSettings",
    "icd10_category",
]


class ReviewCategory(enum.StrEnum):
    """The three kinds of unreasonable prescription in 医院处方点评管理规范（试行）."""

    NON_STANDARD = "non_standard"  # 不规范处方
    UNSUITABLE = "unsuitable"  # 用药不适宜处方
    EXCESSIVE = "excessive"  # 超常处方


class LongPrescriptionReason(enum.StrEnum):
    """Why a supply exceeds the default days (处方管理办法 第十九条; 长期处方管理规范（试行）第二章), coded."""

    STABLE_CHRONIC_DISEASE = "stable_chronic_disease"  # 诊断明确、用药方案稳定、病情控制平稳的慢性病
    ELDERLY_CHRONIC = "elderly_chronic"  # 老年慢性病患者
    LIMITED_MOBILITY = "limited_mobility"  # 行动不便
    REMOTE_RESIDENCE = "remote_residence"  # 居住地远离医疗机构
    TREATMENT_COURSE = "treatment_course"  # 疗程需要 (e.g. 14 days of H. pylori eradication; not a long prescription)


class ExtraQuantityReason(enum.StrEnum):
    """Why a line dispenses more packs than dose × days need (RX-03): the pharmacist sees it and confirms it.
    Without one, any pack over the need is refused (SP 规范用药 超量处方; 处方点评 超常处方)."""

    SPARE_DEVICE = "spare_device"  # 备用装置 (吸入剂、笔芯): a second device while the first runs out
    DOSE_TITRATION = "dose_titration"  # 剂量调整期: supplied for the highest dose of the titration
    PRN_RESERVE = "prn_reserve"  # 按需用药的合理备量 (prn drugs)
    OPENED_PACK_STABILITY = "opened_pack_stability"  # 开封后效期短 (滴眼液、胰岛素): a fresh pack before expiry


# 长期处方管理规范（试行）第十二条: 首次开具长期处方, 由具有中级以上专业技术职务任职资格的医师开具.
LONG_PRESCRIBER_TITLES = frozenset({"主治医师", "副主任医师", "主任医师"})


class DraftOrigin(enum.StrEnum):
    """Who produced the draft. Only `clinician` may become a prescription (RX-07)."""

    CLINICIAN = "clinician"
    AI = "ai"
    AUTO = "auto"
    IMPORT = "import"


@dataclass(frozen=True, slots=True, kw_only=True)
class PrescribedItem:
    """One line of a prescription: `dose_per_time` in `dose_unit`, `times_per_day` on each dosing day,
    a dosing day every `interval_days` days (7 for a weekly tablet), for `days_supply` days. `frequency` is the
    code the doctor chose (qd, bid, … `Frequency`); without one it is read from the times and the interval.
    For biw, `times_per_day` counts the two doses of each 7 days (never two on one day); for prn it is the most
    a day."""

    drug_code: str
    dose_per_time: Decimal
    dose_unit: str
    times_per_day: int
    days_supply: int
    quantity_packs: int
    interval_days: int = 1
    frequency: str | None = None
    extra_quantity_code: str | None = None  # an ExtraQuantityReason when more packs than needed are given
    usage: str = ""  # 用法, its route first ("口服，早餐后"): the platform's orderList[].admission (RX-03)

    @property
    def route(self) -> str:
        """The route of administration (给药途径): the usage's first clause, as the platform receives it."""
        return self.usage.replace(",", "，").split("，", 1)[0].strip()

    @property
    def frequency_code(self) -> Frequency | None:
        """The item's frequency: the code written, or the one its times and interval spell; None when neither."""
        if self.frequency is not None:
            return Frequency(self.frequency) if self.frequency in {f.value for f in Frequency} else None
        return next((f for f in (Frequency.QD, Frequency.BID, Frequency.TID, Frequency.QID, Frequency.QW,
                                 Frequency.Q3D)
                     if (FREQUENCIES[f].times_per_day, FREQUENCIES[f].interval_days)
                     == (self.times_per_day, self.interval_days)), None)

    @property
    def most_in_one_day(self) -> int:
        """The most doses taken on one calendar day."""
        code = self.frequency_code
        most = FREQUENCIES[code].most_in_one_day if code is not None else None
        return most if most is not None else self.times_per_day

    @property
    def doses_in_seven_days(self) -> int:
        """The most doses in any 7 consecutive days (a dosing day every `interval_days` days)."""
        return self.times_per_day * -(-7 // max(1, self.interval_days))

    @property
    def daily_dose(self) -> Decimal:
        """The dose taken on a dosing day (not an average over the interval: a weekly 70 mg is 70 mg that day)."""
        return self.dose_per_time * self.most_in_one_day

    @property
    def weekly_dose(self) -> Decimal:
        return self.dose_per_time * self.doses_in_seven_days


@dataclass(frozen=True, slots=True, kw_only=True)
class PrescriptionDraft:
    """What a doctor submits for one online revisit, with the facts the rules need about the patient.

    `diagnoses_icd10` are this visit's diagnoses; `prior_diagnoses_icd10` the confirmed diagnoses made at a
    physical institution (REV-01). `current_effective_items` are drug codes from the patient's prescriptions
    still in effect. `patient_allergies` holds ATC codes or prefixes, substance names or allergen group
    names (e.g. "penicillin", "青霉素"); `allergy_statement` says whether the visit has one at all (a list, or
    "no known allergies"): without one nothing is prescribed. The patient's state (`pregnant`, `lactating`,
    `renal`, `hepatic`, `weight_kg`) comes from the visit's safety context; `prescriber_antimicrobial_grade`
    is the doctor's 抗菌药物处方权 recorded at admission.
    """

    items: tuple[PrescribedItem, ...]
    diagnoses_icd10: tuple[str, ...]
    prior_diagnoses_icd10: tuple[str, ...]
    issued_on: date
    patient_birth_date: date
    origin: str
    prescriber_id: str
    validity_days: int = 1
    long_prescription_reason: str | None = None
    long_prescription_code: str | None = None  # a LongPrescriptionReason
    prescriber_title: str = ""
    guardian_recorded: bool = False
    patient_allergies: tuple[str, ...] = ()
    current_effective_items: tuple[str, ...] = ()
    allergy_statement: bool
    pregnant: bool = False
    pregnancy_unknown: bool = False
    lactating: bool = False
    renal: Impairment = Impairment.NONE
    hepatic: Impairment = Impairment.NONE
    weight_kg: Decimal | None = None
    prescriber_antimicrobial_grade: str | None = None

    @property
    def patient_age_years(self) -> int:
        """Completed years on the day of issue (实足年龄)."""
        born, today = self.patient_birth_date, self.issued_on
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass(frozen=True, slots=True, kw_only=True)
class RxSettings:
    """Local choices the rules leave to the hospital (`Settings.rx_*`): the regulation's figure by default, and
    never beyond it (a hospital may be stricter): ValueError otherwise."""

    high_amount_threshold_cny: Decimal = Decimal(1000)  # SP 大额度处方
    default_max_days: int = 7  # 处方管理办法 第十九条
    long_max_days: int = 84  # 长期处方管理规范（试行）: 12 weeks

    def __post_init__(self) -> None:
        if not (0 < self.high_amount_threshold_cny <= 1000 and 1 <= self.default_max_days <= 7
                and self.default_max_days <= self.long_max_days <= 84):
            raise ValueError("RX-03: prescription thresholds beyond the regulation (¥1000, 7 days, 84 days)")


_ICD10_CATEGORY = re.compile(r"^([A-Z][0-9]{2})(?:$|\.|[0-9])")


def icd10_category(code: str) -> str | None:
    """The 3-character ICD-10 category of `code` ("E11.65" → "E11", "I10.x00x002" → "I10"), or None
    when `code` is not shaped like an ICD-10 code."""
    match = _ICD10_CATEGORY.match(code.strip().upper())
    return match.group(1) if match else None
