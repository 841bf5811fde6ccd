"""The hospital formulary: drugs, drug–drug incompatibilities, indications by disease, allergen groups.

The tables are reviewed CSV files in `data/` beside this module (each row carries its source);
`load_formulary()` reads and validates them once and returns an immutable `Formulary` for the rules.
A bad file is refused at load with `FormularyError` naming the file, line and column.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType

from hospital.prescriptions.formulary.tables import FormularyError, Row, read_table
from hospital.prescriptions.writing.values import AntimicrobialGrade, ControlledClass, InteractionSeverity, PrescribedItem

__all__ = [
    "AllergenGroup",
    "DiseaseIndication",
    "Drug",
    "Formulary",
    "FormularyError",
    "Interaction",
    "load_formulary",
]


@dataclass(frozen=True, slots=True)
class Drug:
    """One formulary product. `strength` is per dispensing unit (tablet, actuation, mL…);
    `max_daily_dose` is in `dose_unit` and None only where the label sets no maximum."""

    code: str
    generic_name: str
    name_zh: str
    atc_code: str
    form: str
    strength: Decimal
    strength_unit: str
    dispensing_unit: str
    dose_unit: str
    max_daily_dose: Decimal | None
    usual_days_supply_limit: int
    controlled_class: ControlledClass
    antimicrobial_grade: AntimicrobialGrade
    price_cny: Decimal
    pack_size: int
    chronic: bool
    source: str
    notes: str

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

    def lines(self, items: Iterable[PrescribedItem]) -> list[tuple[PrescribedItem, Drug]]:
        """The items whose drug is on the formulary, each with its drug (unknown codes are left out)."""
        return [(item, drug) for item in items if (drug := self.drugs.get(item.drug_code)) is not None]

    def interactions_between(self, x: Drug, y: Drug) -> list[Interaction]:
        return [i for i in self.interactions if i.applies_to(x.atc_code, y.atc_code)]

    def indications_for(self, icd10_category: str) -> list[DiseaseIndication]:
        return [d for d in self.indications if d.covers(icd10_category)]

    def allergen_group(self, name: str) -> AllergenGroup | None:
        key = name.strip().casefold()
        return next((g for g in self.allergen_groups if key in g.aliases), None)


DRUG_COLUMNS = (
    "code",
    "generic_name",
    "name_zh",
    "atc_code",
    "form",
    "strength",
    "strength_unit",
    "dispensing_unit",
    "dose_unit",
    "max_daily_dose",
    "usual_days_supply_limit",
    "controlled_class",
    "antimicrobial_grade",
    "price_cny",
    "pack_size",
    "chronic",
    "source",
    "notes",
)
INTERACTION_COLUMNS = ("substance_a", "substance_b", "severity", "mechanism", "source", "external")
INDICATION_COLUMNS = ("icd10", "disease_en", "disease_zh", "chronic", "atc_prefixes", "source")
ALLERGEN_COLUMNS = ("group", "aliases", "atc_prefixes", "cross_reactive_prefixes", "source")
STRENGTH_UNITS = frozenset({"mg", "mcg", "g", "MBq", "IU", "mmol"})
DISPENSING_UNITS = frozenset({"tablet", "capsule", "actuation", "inhalation", "mL", "patch", "sachet"})
NO_LABEL_MAXIMUM = "no label maximum"
LONG_PRESCRIPTION_MAX_DAYS = 84  # 长期处方管理规范（试行）: never more than 12 weeks


def load_formulary(directory: Traversable | Path | None = None) -> Formulary:
    """Read and validate the four tables from `directory` (default: the bundled `data/`)."""
    base = directory if directory is not None else resources.files("hospital.prescriptions.formulary") / "data"
    drugs: dict[str, Drug] = {}
    for row in read_table(base / "formulary.csv", DRUG_COLUMNS):
        drug = _drug(row)
        if drug.code in drugs:
            raise row.error("code", f"duplicate code {drug.code!r}")
        drugs[drug.code] = drug
    substances = frozenset(d.atc_code for d in drugs.values())
    interactions = _interactions(read_table(base / "incompatibilities.csv", INTERACTION_COLUMNS), substances)
    indications = tuple(_indication(r) for r in read_table(base / "disease_drug_classes.csv", INDICATION_COLUMNS))
    groups = _allergen_groups(read_table(base / "allergen_groups.csv", ALLERGEN_COLUMNS))
    return Formulary(MappingProxyType(drugs), interactions, indications, groups)


def _drug(row: Row) -> Drug:
    atc_code = row.atc("atc_code", substance=True)
    code = row.text("code")
    if not code.startswith(atc_code + "-"):
        raise row.error("code", f"{code!r} must start with its ATC code and a dash ({atc_code}-…)")
    strength_unit = row.choice("strength_unit", STRENGTH_UNITS)
    dispensing_unit = row.choice("dispensing_unit", DISPENSING_UNITS)
    dose_unit = row.choice("dose_unit", frozenset({strength_unit, dispensing_unit}))
    notes = row.optional_text("notes")
    max_daily_dose = row.optional_decimal("max_daily_dose")
    if max_daily_dose is None and NO_LABEL_MAXIMUM not in notes:
        raise row.error("max_daily_dose", f"is required unless the notes say {NO_LABEL_MAXIMUM!r}")
    drug = Drug(
        code=code,
        generic_name=row.text("generic_name"),
        name_zh=row.text("name_zh"),
        atc_code=atc_code,
        form=row.text("form"),
        strength=row.decimal("strength"),
        strength_unit=strength_unit,
        dispensing_unit=dispensing_unit,
        dose_unit=dose_unit,
        max_daily_dose=max_daily_dose,
        usual_days_supply_limit=row.integer("usual_days_supply_limit", low=1, high=LONG_PRESCRIPTION_MAX_DAYS),
        controlled_class=row.enum("controlled_class", ControlledClass),
        antimicrobial_grade=row.enum("antimicrobial_grade", AntimicrobialGrade),
        price_cny=row.money("price_cny"),
        pack_size=row.integer("pack_size", low=1, high=10_000),
        chronic=row.flag("chronic"),
        source=row.text("source"),
        notes=notes,
    )
    # 长期处方管理规范（试行）: controlled drugs and antimicrobials are never long-prescription drugs.
    if drug.chronic and (drug.is_controlled or drug.is_antimicrobial):
        raise row.error("chronic", "controlled drugs and antimicrobials cannot be marked chronic")
    return drug


def _interactions(rows: Iterator[Row], substances: frozenset[str]) -> tuple[Interaction, ...]:
    seen: set[frozenset[str]] = set()
    result = []
    for row in rows:
        a, b = row.atc("substance_a"), row.atc("substance_b")
        external = frozenset(row.atc_list("external", required=False))
        pair = frozenset({a, b})
        if a == b or pair in seen:
            raise row.error("substance_b", f"pair {a}–{b} is repeated or pairs a substance with itself")
        if not external <= pair:
            raise row.error("external", "may only name this row's own substances")
        for side in (a, b):
            known = any(s.startswith(side) for s in substances)
            if side not in external and not known:
                raise row.error("external", f"{side} matches no formulary drug; list it here if on purpose")
            if side in external and known:
                raise row.error("external", f"{side} is on the formulary; it is not external")
        seen.add(pair)
        result.append(
            Interaction(
                a, b, row.enum("severity", InteractionSeverity), row.text("mechanism"), row.text("source"), external
            )
        )
    return tuple(result)


def _indication(row: Row) -> DiseaseIndication:
    first, last = row.icd10_range("icd10")
    return DiseaseIndication(
        first_category=first,
        last_category=last,
        disease_en=row.text("disease_en"),
        disease_zh=row.text("disease_zh"),
        chronic=row.flag("chronic"),
        atc_prefixes=row.atc_list("atc_prefixes"),
        source=row.text("source"),
    )


def _allergen_groups(rows: Iterator[Row]) -> tuple[AllergenGroup, ...]:
    groups: list[AllergenGroup] = []
    for row in rows:
        aliases = frozenset(a.strip().casefold() for a in row.text("aliases").split("|") if a.strip())
        taken = next((g.name for g in groups if g.aliases & aliases), None)
        if taken:
            raise row.error("aliases", f"an alias is already used by group {taken!r}")
        groups.append(
            AllergenGroup(
                name=row.text("group"),
                aliases=aliases | {row.text("group").casefold()},
                atc_prefixes=row.atc_list("atc_prefixes"),
                cross_reactive_prefixes=row.atc_list("cross_reactive_prefixes", required=False),
                source=row.text("source"),
            )
        )
    return tuple(groups)
