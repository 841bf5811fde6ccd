"""Reading the formulary's reviewed CSV tables in `data/` (each row carries its source).

`read_table` yields typed rows whose every failure names the file, line and column (`FormularyError`);
`load_formulary()` reads and checks the four tables once and returns an immutable `Formulary` for the rules.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from hospital.prescriptions.formulary.values import (
    AllergenGroup,
    AntimicrobialGrade,
    ControlledClass,
    ControlledSubstance,
    DiseaseIndication,
    Drug,
    Formulary,
    Frequency,
    Impairment,
    Interaction,
    InteractionSeverity,
    StateCaution,
)

__all__ = ["NO_LABEL_MAXIMUM", "FormularyError", "Row", "load_formulary", "read_table"]

E = TypeVar("E", bound=enum.Enum)

# An ATC code at any level from the therapeutic subgroup down ("M01A", "C09AA", "C08CA01").
_ATC_PREFIX = re.compile(r"^[A-Z][0-9]{2}[A-Z]([A-Z]([0-9]{2})?)?$")
_ATC_ANY = re.compile(r"^[A-Z][0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?$")
_ATC_SUBSTANCE = re.compile(r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$")
_ICD10_CATEGORY = re.compile(r"^[A-Z][0-9]{2}$")


class FormularyError(ValueError):
    """A formulary data file is malformed; the message names the file, line and column."""


class Row:
    """One CSV row with typed accessors; every failure raises `FormularyError` pointing at the cell."""

    def __init__(self, file: str, line: int, values: dict[str, str]) -> None:
        self.file, self.line, self._values = file, line, values

    def error(self, column: str, problem: str) -> FormularyError:
        return FormularyError(f"{self.file} line {self.line}, column {column!r}: {problem}")

    def text(self, column: str) -> str:
        value = self.optional_text(column)
        if not value:
            raise self.error(column, "must not be empty")
        return value

    def optional_text(self, column: str) -> str:
        return (self._values.get(column) or "").strip()

    def decimal(self, column: str) -> Decimal:
        raw = self.text(column)
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise self.error(column, f"{raw!r} is not a decimal number") from None
        if not value.is_finite() or value <= 0:
            raise self.error(column, f"{raw!r} must be a positive number")
        return value

    def optional_decimal(self, column: str) -> Decimal | None:
        return self.decimal(column) if self.optional_text(column) else None

    def optional_integer(self, column: str, *, low: int, high: int) -> int | None:
        return self.integer(column, low=low, high=high) if self.optional_text(column) else None

    def codes(self, column: str, kind: type[E]) -> frozenset[E]:
        """Space-separated enum values, at least one."""
        values = self.text(column).split()
        allowed = {str(member.value): member for member in kind}
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise self.error(column, f"unknown value {unknown[0]!r}; expected some of {sorted(allowed)}")
        return frozenset(allowed[v] for v in values)

    def impairments(self, column: str) -> tuple[tuple[Impairment, str], ...]:
        """`moderate=warn severe=block`: what the label says from each impairment category up."""
        result = []
        for part in self.optional_text(column).split():
            level, _, action = part.partition("=")
            if level not in {"mild", "moderate", "severe"} or action not in {"warn", "block"}:
                raise self.error(column, f"{part!r} is not like 'moderate=warn' or 'severe=block'")
            result.append((Impairment(level), action))
        return tuple(result)

    def money(self, column: str) -> Decimal:
        value = self.decimal(column)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise self.error(column, f"{value} has more than two decimals (fen)")
        return value

    def integer(self, column: str, *, low: int, high: int) -> int:
        raw = self.text(column)
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise self.error(column, f"{raw!r} must be a whole number from {low} to {high}")
        return int(raw)

    def choice(self, column: str, allowed: frozenset[str]) -> str:
        value = self.text(column)
        if value not in allowed:
            raise self.error(column, f"unknown value {value!r}; expected one of {sorted(allowed)}")
        return value

    def enum(self, column: str, kind: type[E]) -> E:
        value = self.choice(column, frozenset(str(member.value) for member in kind))
        return kind(value)

    def flag(self, column: str) -> bool:
        return self.choice(column, frozenset({"yes", "no"})) == "yes"

    def atc(self, column: str, *, substance: bool = False) -> str:
        value = self.text(column)
        pattern = _ATC_SUBSTANCE if substance else _ATC_PREFIX
        if not pattern.match(value):
            kind = "an ATC substance code (e.g. C08CA01)" if substance else "an ATC code or class (e.g. C09AA)"
            raise self.error(column, f"{value!r} is not {kind}")
        return value

    def atc_list(self, column: str, *, required: bool = True) -> tuple[str, ...]:
        values = tuple(self.optional_text(column).split())
        if required and not values:
            raise self.error(column, "must list at least one ATC code")
        for value in values:
            if not _ATC_ANY.match(value):
                raise self.error(column, f"{value!r} is not an ATC code or class")
        return values

    def icd10_range(self, column: str) -> tuple[str, str]:
        value = self.text(column)
        first, _, last = value.partition("-")
        last = last or first
        if not (_ICD10_CATEGORY.match(first) and _ICD10_CATEGORY.match(last)) or first > last:
            raise self.error(column, f"{value!r} is not an ICD-10 category or range like I10-I15")
        return first, last


def read_table(path: Traversable | Path, columns: tuple[str, ...]) -> Iterator[Row]:
    """Yield the rows of the CSV at `path`, after checking its header is exactly `columns`."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormularyError(f"{name}: file not found") from None
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    if header != columns:
        raise FormularyError(f"{name}: header must be {','.join(columns)}; found {','.join(header)}")
    for values in reader:
        if None in values:
            raise FormularyError(f"{name} line {reader.line_num}: more cells than columns")
        yield Row(name, reader.line_num, values)


DRUG_COLUMNS = (
    "code",
    "generic_name",
    "name_zh",
    "atc_code",
    "approval_number",
    "form",
    "strength",
    "strength_unit",
    "dispensing_unit",
    "dose_unit",
    "max_single_dose",
    "max_daily_dose",
    "max_weekly_dose",
    "frequencies",
    "prn_max_per_day",
    "child_min_age_years",
    "child_max_daily_dose_per_kg",
    "usual_days_supply_limit",
    "controlled_class",
    "antimicrobial_grade",
    "price_cny",
    "pack_size",
    "chronic",
    "pregnancy",
    "lactation",
    "renal",
    "hepatic",
    "high_alert",
    "source",
    "notes",
)
CONTROLLED_COLUMNS = ("atc", "controlled_class", "name", "source")
# A source names where the figures come from: the product's label, the Pharmacopoeia, or a national list.
CITED_SOURCES = ("说明书", "中国药典", "麻醉药品和精神药品品种目录", "医疗用毒性药品管理办法", "放射性药品管理办法",
                 "易制毒化学品管理条例")
INTERACTION_COLUMNS = ("substance_a", "substance_b", "severity", "mechanism", "source", "external")
INDICATION_COLUMNS = ("icd10", "disease_en", "disease_zh", "chronic", "atc_prefixes", "source")
ALLERGEN_COLUMNS = ("group", "aliases", "atc_prefixes", "cross_reactive_prefixes", "source")
STRENGTH_UNITS = frozenset({"mg", "mcg", "g", "MBq", "IU", "mmol"})
DISPENSING_UNITS = frozenset({"tablet", "capsule", "actuation", "inhalation", "mL", "patch", "sachet"})
NO_LABEL_MAXIMUM = "no label maximum"
# 药品批准文号: 国药准字 + H (化学药), Z (中药), S (生物制品), J (进口分包装), B (保健药品), T (体外诊断试剂),
# F (药用辅料) + 8 digits (药品注册管理办法). Blank where the row's source does not name it: never guessed.
APPROVAL_NUMBER = re.compile(r"国药准字[HZSJBTF]\d{8}")
LONG_PRESCRIPTION_MAX_DAYS = 84  # 长期处方管理规范（试行）: never more than 12 weeks


def load_formulary(directory: Traversable | Path | None = None) -> Formulary:
    """Read and validate the five tables from `directory` (default: the bundled `data/`)."""
    base = directory if directory is not None else resources.files("hospital.prescriptions.formulary") / "data"
    controlled = _controlled(read_table(base / "controlled_substances.csv", CONTROLLED_COLUMNS))
    drugs: dict[str, Drug] = {}
    for row in read_table(base / "formulary.csv", DRUG_COLUMNS):
        drug = _drug(row)
        if drug.code in drugs:
            raise row.error("code", f"duplicate code {drug.code!r}")
        _check_controlled_class(row, drug, controlled)
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
    source = row.text("source")
    if not any(cited in source for cited in CITED_SOURCES):
        raise row.error("source", f"must cite the label (说明书), the Pharmacopoeia (中国药典) or a national list; "
                                  f"found {source!r}")
    max_single_dose = row.optional_decimal("max_single_dose")
    max_daily_dose = row.optional_decimal("max_daily_dose")
    for column, value in (("max_single_dose", max_single_dose), ("max_daily_dose", max_daily_dose)):
        if value is None and NO_LABEL_MAXIMUM not in notes:
            raise row.error(column, f"is required unless the notes say {NO_LABEL_MAXIMUM!r}")
    if max_single_dose is not None and max_daily_dose is not None and max_single_dose > max_daily_dose:
        raise row.error("max_single_dose", f"{max_single_dose} is above the daily maximum {max_daily_dose}")
    frequencies = row.codes("frequencies", Frequency)
    prn_max = row.optional_integer("prn_max_per_day", low=1, high=24)
    if (Frequency.PRN in frequencies) != (prn_max is not None):
        raise row.error("prn_max_per_day", "is given exactly when the frequencies allow prn")
    max_weekly_dose = row.optional_decimal("max_weekly_dose")
    if Frequency.QW in frequencies and max_weekly_dose is None:
        raise row.error("max_weekly_dose", "a weekly drug (qw) states its maximum in any 7 days")
    drug = Drug(
        code=code,
        generic_name=row.text("generic_name"),
        name_zh=row.text("name_zh"),
        atc_code=atc_code,
        approval_number=_approval_number(row),
        form=row.text("form"),
        strength=row.decimal("strength"),
        strength_unit=strength_unit,
        dispensing_unit=dispensing_unit,
        dose_unit=dose_unit,
        max_single_dose=max_single_dose,
        max_daily_dose=max_daily_dose,
        max_weekly_dose=max_weekly_dose,
        frequencies=frequencies,
        prn_max_per_day=prn_max,
        child_min_age_years=row.optional_integer("child_min_age_years", low=1, high=18),
        child_max_daily_dose_per_kg=row.optional_decimal("child_max_daily_dose_per_kg"),
        usual_days_supply_limit=row.integer("usual_days_supply_limit", low=1, high=LONG_PRESCRIPTION_MAX_DAYS),
        controlled_class=row.enum("controlled_class", ControlledClass),
        antimicrobial_grade=row.enum("antimicrobial_grade", AntimicrobialGrade),
        price_cny=row.money("price_cny"),
        pack_size=row.integer("pack_size", low=1, high=10_000),
        chronic=row.flag("chronic"),
        pregnancy=_caution(row, "pregnancy"),
        lactation=_caution(row, "lactation"),
        renal=row.impairments("renal"),
        hepatic=row.impairments("hepatic"),
        high_alert=row.flag("high_alert"),
        source=source,
        notes=notes,
    )
    # 长期处方管理规范（试行）: controlled drugs and antimicrobials are never long-prescription drugs.
    if drug.chronic and (drug.is_controlled or drug.is_antimicrobial):
        raise row.error("chronic", "controlled drugs and antimicrobials cannot be marked chronic")
    return drug


def _approval_number(row: Row) -> str | None:
    value = row.optional_text("approval_number")
    if not value:
        return None
    if not APPROVAL_NUMBER.fullmatch(value):
        raise row.error("approval_number", f"{value!r} is not a 药品批准文号 (国药准字 + a letter + 8 digits)")
    return value


def _caution(row: Row, column: str) -> StateCaution:
    value = row.optional_text(column)
    if value not in {c.value for c in StateCaution}:
        raise row.error(column, f"unknown value {value!r}; expected blank, 'caution' or 'contraindicated'")
    return StateCaution(value)


def _controlled(rows: Iterator[Row]) -> tuple[ControlledSubstance, ...]:
    found: list[ControlledSubstance] = []
    for row in rows:
        prefix = row.text("atc")
        if not _ATC_ANY.match(prefix):
            raise row.error("atc", f"{prefix!r} is not an ATC code or class")
        kind = row.enum("controlled_class", ControlledClass)
        if kind is ControlledClass.NONE:
            raise row.error("controlled_class", "this table lists specially managed substances only")
        found.append(ControlledSubstance(prefix, kind, row.text("name"), row.text("source")))
    return tuple(found)


def _check_controlled_class(row: Row, drug: Drug, listed: tuple[ControlledSubstance, ...]) -> None:
    """The drug's class agrees with the national lists (controlled_substances.csv): its ATC under a listed
    substance means that class; a class means its ATC is listed under it (the longest listed prefix decides)."""
    matches = sorted((s for s in listed if drug.atc_code.startswith(s.atc_prefix)), key=lambda s: -len(s.atc_prefix))
    expected = matches[0].controlled_class if matches else ControlledClass.NONE
    if drug.controlled_class is not expected:
        why = f"{matches[0].name}, {matches[0].source}" if matches else "its ATC code is on no national list"
        raise row.error("controlled_class", f"{drug.controlled_class} contradicts ATC {drug.atc_code}: "
                                            f"expected {expected} ({why})")


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
