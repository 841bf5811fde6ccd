"""The hospital formulary as plain values: drugs and their classes, drug–drug incompatibilities, indications by
disease, allergen groups.

`tables.load_formulary()` reads them from the reviewed CSV files in `data/` and returns an immutable
`Formulary`, which the prescription rules take as it is. Nothing here reads a file, a database or the network.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

__all__ = [
    "FREQUENCIES",
    "AllergenGroup",
    "AntimicrobialGrade",
    "ControlledClass",
    "ControlledSubstance",
    "DiseaseIndication",
    "Drug",
    "DrugLine",
    "Formulary",
    "Frequency",
    "FrequencySchedule",
    "Impairment",
    "Interaction",
    "InteractionSeverity",
    "StateCaution",
]


class ControlledClass(enum.StrEnum):
    """Specially managed drug classes (特殊管理药品); every class but `none` is refused online (RX-02)."""

    NONE = "none"
    NARCOTIC = "narcotic"  # 麻醉药品
    PSYCHOTROPIC_1 = "psychotropic_1"  # 第一类精神药品
    PSYCHOTROPIC_2 = "psychotropic_2"  # 第二类精神药品
    TOXIC = "toxic"  # 医疗用毒性药品
    RADIOACTIVE = "radioactive"  # 放射性药品
    PRECURSOR = "precursor"  # 药品类易制毒化学品

    @property
    def name_zh(self) -> str:
        return _CONTROLLED_ZH[self]


_CONTROLLED_ZH = {
    ControlledClass.NONE: "普通药品",
    ControlledClass.NARCOTIC: "麻醉药品",
    ControlledClass.PSYCHOTROPIC_1: "第一类精神药品",
    ControlledClass.PSYCHOTROPIC_2: "第二类精神药品",
    ControlledClass.TOXIC: "医疗用毒性药品",
    ControlledClass.RADIOACTIVE: "放射性药品",
    ControlledClass.PRECURSOR: "药品类易制毒化学品",
}


class AntimicrobialGrade(enum.StrEnum):
    """抗菌药物分级 (抗菌药物临床应用管理办法); `none` for drugs that are not antimicrobials."""

    NONE = "none"
    UNRESTRICTED = "unrestricted"  # 非限制使用级
    RESTRICTED = "restricted"  # 限制使用级
    SPECIAL = "special"  # 特殊使用级


class Frequency(enum.StrEnum):
    """The frequency codes a prescription uses (处方常用拉丁缩写): how often one dose is taken."""

    QD = "qd"  # 每日一次
    BID = "bid"  # 每日两次
    TID = "tid"  # 每日三次
    QID = "qid"  # 每日四次
    QN = "qn"  # 每晚一次
    QW = "qw"  # 每周一次
    BIW = "biw"  # 每周两次
    Q3D = "q3d"  # 每三日一次 (a transdermal patch)
    PRN = "prn"  # 必要时, at most the doctor's number a day, never above the label's


@dataclass(frozen=True, slots=True)
class FrequencySchedule:
    """What a frequency code means for a prescribed line: `times_per_day` doses on a dosing day every
    `interval_days` days, at most `most_in_one_day` of them on one calendar day (biw: two a week, one a day).
    For prn `times_per_day` is None: the doctor writes the most per day."""

    times_per_day: int | None
    interval_days: int
    most_in_one_day: int | None = None


FREQUENCIES: Mapping[Frequency, FrequencySchedule] = {
    Frequency.QD: FrequencySchedule(1, 1),
    Frequency.BID: FrequencySchedule(2, 1),
    Frequency.TID: FrequencySchedule(3, 1),
    Frequency.QID: FrequencySchedule(4, 1),
    Frequency.QN: FrequencySchedule(1, 1),
    Frequency.QW: FrequencySchedule(1, 7),
    Frequency.BIW: FrequencySchedule(2, 7, most_in_one_day=1),
    Frequency.Q3D: FrequencySchedule(1, 3),
    Frequency.PRN: FrequencySchedule(None, 1),
}


class StateCaution(enum.StrEnum):
    """What the label says for a patient state (pregnancy, lactation): 禁用 blocks, 慎用 warns."""

    NONE = ""
    CAUTION = "caution"  # 慎用 / 安全性未确立
    CONTRAINDICATED = "contraindicated"  # 禁用


class Impairment(enum.StrEnum):
    """A renal or hepatic impairment category, mildest first (renal: eGFR ≥ 60, 30–59, < 30)."""

    NONE = "none"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"

    @property
    def rank(self) -> int:
        return list(Impairment).index(self)


class InteractionSeverity(enum.StrEnum):
    """How bad a drug pair is; contraindicated pairs block, major ones warn, moderate ones inform."""

    CONTRAINDICATED = "contraindicated"
    MAJOR = "major"
    MODERATE = "moderate"


class DrugLine(Protocol):
    """Whatever names a drug by its formulary code: a prescribed item, for `Formulary.lines`."""

    @property
    def drug_code(self) -> str: ...


LineT = TypeVar("LineT", bound=DrugLine)


@dataclass(frozen=True, slots=True)
class Drug:
    """One formulary product. `strength` is per dispensing unit (tablet, actuation, mL…); the maxima are in
    `dose_unit` and None only where the label sets none (then `notes` says so): `max_single_dose` for one
    administration, `max_daily_dose` within one day, `max_weekly_dose` within any 7 days (weekly drugs).
    `frequencies` are the codes the label allows; `prn_max_per_day` bounds an as-needed line. A child (under
    `CHILD_AGE_LIMIT`) is never given it under `child_min_age_years`, and at most
    `child_max_daily_dose_per_kg` × weight a day. `pregnancy`/`lactation` and `renal`/`hepatic` (impairment
    category → "block" or "warn") are the label's contraindications and cautions; `high_alert` marks a
    高警示药品 the pharmacist double-checks."""

    code: str
    generic_name: str
    name_zh: str
    atc_code: str
    form: str
    strength: Decimal
    strength_unit: str
    dispensing_unit: str
    dose_unit: str
    max_single_dose: Decimal | None
    max_daily_dose: Decimal | None
    max_weekly_dose: Decimal | None
    frequencies: frozenset[Frequency]
    prn_max_per_day: int | None
    child_min_age_years: int | None
    child_max_daily_dose_per_kg: Decimal | None
    usual_days_supply_limit: int
    controlled_class: ControlledClass
    antimicrobial_grade: AntimicrobialGrade
    price_cny: Decimal
    pack_size: int
    chronic: bool
    pregnancy: StateCaution
    lactation: StateCaution
    renal: tuple[tuple[Impairment, str], ...]
    hepatic: tuple[tuple[Impairment, str], ...]
    high_alert: bool
    source: str
    notes: str
    # 药品批准文号 (国药准字…), None where the formulary's source does not name it (data/README.md)
    approval_number: str | None = None

    @staticmethod
    def impairment_action(rules: tuple[tuple[Impairment, str], ...], level: Impairment) -> str | None:
        """"block", "warn" or None for a patient at `level`: the worst action of every category at or below it."""
        actions = {action for at, action in rules if at.rank <= level.rank} if level is not Impairment.NONE else set()
        return "block" if "block" in actions else "warn" if "warn" in actions else None

    @property
    def is_controlled(self) -> bool:
        return self.controlled_class is not ControlledClass.NONE

    @property
    def is_antimicrobial(self) -> bool:
        return self.antimicrobial_grade is not AntimicrobialGrade.NONE

    @property
    def label(self) -> str:
        """How findings name the drug: "苯磺酸氨氯地平片 (amlodipine 5 mg, C08CA01-tab-5mg)"."""
        return f"{self.name_zh} ({self.generic_name} {self.strength} {self.strength_unit}, {self.code})"

    def dispensing_units_per_dose(self, dose: Decimal) -> Decimal:
        """How many tablets, actuations, mL … one dose of `dose` (in `dose_unit`) takes."""
        if self.dose_unit == self.dispensing_unit:
            return dose
        return dose / self.strength


@dataclass(frozen=True, slots=True)
class Interaction:
    """A known incompatible pair (配伍禁忌). Each side is an ATC substance code or a class prefix;
    `external` names the sides not on this formulary on purpose (documented, still checked)."""

    substance_a: str
    substance_b: str
    severity: InteractionSeverity
    mechanism: str
    source: str
    external: frozenset[str]

    def applies_to(self, atc_x: str, atc_y: str) -> bool:
        a, b = self.substance_a, self.substance_b
        return (atc_x.startswith(a) and atc_y.startswith(b)) or (atc_x.startswith(b) and atc_y.startswith(a))


@dataclass(frozen=True, slots=True)
class DiseaseIndication:
    """The ATC classes indicated for a range of ICD-10 categories, and whether the disease is chronic
    (which makes its drugs eligible for long prescriptions)."""

    first_category: str
    last_category: str
    disease_en: str
    disease_zh: str
    chronic: bool
    atc_prefixes: tuple[str, ...]
    source: str

    def covers(self, category: str) -> bool:
        return self.first_category <= category <= self.last_category

    def indicates(self, atc_code: str) -> bool:
        return atc_code.startswith(self.atc_prefixes)


@dataclass(frozen=True, slots=True)
class AllergenGroup:
    """Names a patient may give for an allergy to a drug class, the ATC prefixes it covers, and those
    with known cross-reactivity (penicillin → cephalosporins)."""

    name: str
    aliases: frozenset[str]
    atc_prefixes: tuple[str, ...]
    cross_reactive_prefixes: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class ControlledSubstance:
    """A substance (or ATC class) on a national list of specially managed drugs, and its class: a formulary row
    whose ATC falls under it must carry that class, and a row carrying a class must fall under one."""

    atc_prefix: str
    controlled_class: ControlledClass
    name: str
    source: str


@dataclass(frozen=True, slots=True)
class Formulary:
    """Every drug the hospital may prescribe online or must recognise, with the tables the rules use."""

    drugs: Mapping[str, Drug]
    interactions: tuple[Interaction, ...]
    indications: tuple[DiseaseIndication, ...]
    allergen_groups: tuple[AllergenGroup, ...]

    def get(self, code: str) -> Drug | None:
        return self.drugs.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self.drugs

    def __iter__(self) -> Iterator[Drug]:
        return iter(self.drugs.values())

    def __len__(self) -> int:
        return len(self.drugs)

    def lines(self, items: Iterable[LineT]) -> list[tuple[LineT, Drug]]:
        """The items whose drug is on the formulary, each with its drug (unknown codes are left out)."""
        return [(item, drug) for item in items if (drug := self.drugs.get(item.drug_code)) is not None]

    def interactions_between(self, x: Drug, y: Drug) -> list[Interaction]:
        return [i for i in self.interactions if i.applies_to(x.atc_code, y.atc_code)]

    def indications_for(self, icd10_category: str) -> list[DiseaseIndication]:
        return [d for d in self.indications if d.covers(icd10_category)]

    def allergen_group(self, name: str) -> AllergenGroup | None:
        key = name.strip().casefold()
        return next((g for g in self.allergen_groups if key in g.aliases), None)
