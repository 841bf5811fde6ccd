"""The reviewed intake tables in `data/` (the consent texts are `consent_texts.py`).

The tables (REV-02, REV-03, REV-04) are read once into frozen values and checked as they load. Every CSV row
carries a `source` (and `notes`); a row that names an unknown kind, a code that is not a WHO ICD-10 code or
range, or an unknown department stops the load with `DataTableError`. The lookups the rules need (which
exclusion, which department, which recency window) are methods of `IntakeTables`, so the rules stay pure and
a test or a hospital can pass its own tables; `tables_for(ctx)` gives the tables in force, with the
configured recency windows (REV-02 "configurable").

Booking and the encounter read these tables too (department names, legacy ICD-10 aliases, notifiable
diseases): intake is the lowest sub-area that needs them, so they live here.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

from hospital.institution.rules import department_covers  # INS-02 owns coverage; re-exported for the intake rules
from hospital.visits.icd10 import (
    CodeRange,
    Icd10Code,
    is_who_code,
    narrowest,
    parse_code_range,
)

if TYPE_CHECKING:
    from hospital.context import HospitalContext

__all__ = [
    "DATA_DIR",
    "Complication",
    "DataTableError",
    "Department",
    "DepartmentMapping",
    "DiagnosisTitle",
    "ExcludedCondition",
    "ExclusionKind",
    "IntakeTables",
    "NotifiableDisease",
    "RecencyWindow",
    "StatutoryClass",
    "department_covers",
    "intake_tables",
    "load_intake_tables",
    "normalise_name",
    "tables_for",
]

T = TypeVar("T")

DATA_DIR = Path(__file__).parent / "data"
_DEPARTMENT_CODE = re.compile(r"^\d{2}(\.\d{2})?$")


class DataTableError(ValueError):
    """A data file is malformed; the message names the file and the line."""


class ExclusionKind(enum.StrEnum):
    """Why a condition is refused online (REV-03, PD 6)."""

    CLASS_A_INFECTIOUS = "class_a_infectious"  # 甲类传染病
    MANAGED_AS_CLASS_A = "managed_as_class_a"  # 按甲类管理的乙类传染病
    CRITICAL_EMERGENCY = "critical_emergency"  # 危急重症
    NEEDS_PHYSICAL_EXAM = "needs_physical_exam"  # 需要体格检查或医疗仪器设备辅助诊断


class StatutoryClass(enum.StrEnum):
    """法定传染病 class under 传染病防治法 第三条."""

    A = "A"  # 甲类
    B = "B"  # 乙类
    C = "C"  # 丙类


@dataclass(frozen=True, slots=True)
class ExcludedCondition:
    codes: CodeRange
    kind: ExclusionKind
    name_zh: str
    name_en: str
    source: str
    notes: str


@dataclass(frozen=True, slots=True)
class NotifiableDisease:
    codes: CodeRange
    disease_zh: str
    disease_en: str
    statutory_class: StatutoryClass
    managed_as_class_a: bool
    report_within_hours: int
    source: str
    notes: str


@dataclass(frozen=True, slots=True)
class Department:
    """A 诊疗科目 of the national 医疗机构诊疗科目名录: "03" 内科, "03.04" 心血管内科专业."""

    code: str
    name_zh: str
    name_en: str
    source: str
    notes: str

    @property
    def parent(self) -> str | None:
        return self.code.split(".")[0] if "." in self.code else None


@dataclass(frozen=True, slots=True)
class DepartmentMapping:
    """ICD-10 codes and the departments that may serve them; none means not served online (`notes` says why)."""

    codes: CodeRange
    department_codes: tuple[str, ...]
    source: str
    notes: str


@dataclass(frozen=True, slots=True)
class RecencyWindow:
    """How old a prior diagnosis in `group` may be; `codes` is None for the default row."""

    group: str
    codes: CodeRange | None
    window_months: int
    source: str
    notes: str


@dataclass(frozen=True, slots=True)
class DiagnosisTitle:
    """The Chinese title of a code (国家临床版2.0) and the names a record may use for it."""

    codes: CodeRange
    title_zh: str
    synonyms: tuple[str, ...]
    source: str
    notes: str

    def names(self) -> tuple[str, ...]:
        return (self.title_zh, *self.synonyms)


@dataclass(frozen=True, slots=True)
class Complication:
    """A coded complication (or the same disease under another code) of a prior diagnosis (REV-04)."""

    prior_codes: CodeRange
    complication_codes: CodeRange
    source: str
    notes: str


_NAME_BLANKS = str.maketrans({" ": None, "\u3000": None, "\t": None, "(": "（", ")": "）"})
_NAME_PARTS = re.compile(r"[、，,；;（）]")


def normalise_name(name: str) -> str:
    """A diagnosis name compared without blanks, with full-width brackets, upper-case Latin letters."""
    return name.translate(_NAME_BLANKS).strip().upper()


def _name_parts(name: str) -> tuple[str, ...]:
    """"急性脑血管病（脑出血、脑梗死、卒中）" → the whole name and each listed part."""
    parts = [p for p in _NAME_PARTS.split(normalise_name(name)) if len(p) >= 2]
    return tuple(dict.fromkeys([normalise_name(name), *parts]))


@dataclass(frozen=True, slots=True)
class IntakeTables:
    excluded: tuple[ExcludedCondition, ...]
    notifiable: tuple[NotifiableDisease, ...]
    departments: Mapping[str, Department]
    icd_departments: tuple[DepartmentMapping, ...]
    recency: tuple[RecencyWindow, ...]
    legacy_aliases: Mapping[str, str]
    titles: tuple[DiagnosisTitle, ...] = ()
    complications: tuple[Complication, ...] = ()

    def title_for(self, code: Icd10Code) -> DiagnosisTitle | None:
        found = narrowest(code, ((row.codes, row) for row in self.titles))
        return found[0] if found else None

    def codes_named(self, name: str) -> tuple[tuple[CodeRange, str], ...]:
        """Every code range whose reviewed title, synonym or excluded/notifiable name is exactly `name`
        (a name listed inside another's brackets counts): what the name says the diagnosis is."""
        wanted = normalise_name(name)
        found: dict[CodeRange, str] = {}
        for row in self.titles:
            if wanted in {normalise_name(n) for n in row.names()}:
                found.setdefault(row.codes, row.title_zh)
        for codes, title in ((r.codes, r.name_zh) for r in self.excluded):
            if wanted in _name_parts(title):
                found.setdefault(codes, title)
        for codes, title in ((r.codes, r.disease_zh) for r in self.notifiable):
            if wanted in _name_parts(title):
                found.setdefault(codes, title)
        return tuple(found.items())

    def complication_of(self, prior: Icd10Code, recorded: Icd10Code) -> Complication | None:
        for row in self.complications:
            if row.prior_codes.contains(prior) and row.complication_codes.contains(recorded):
                return row
        return None

    def exclusion_for(self, code: Icd10Code) -> ExcludedCondition | None:
        found = narrowest(code, ((row.codes, row) for row in self.excluded))
        return found[0] if found else None

    def notifiable_for(self, code: Icd10Code) -> NotifiableDisease | None:
        found = narrowest(code, ((row.codes, row) for row in self.notifiable))
        return found[0] if found else None

    def department_mapping_for(self, code: Icd10Code) -> DepartmentMapping | None:
        found = narrowest(code, ((row.codes, row) for row in self.icd_departments))
        return found[0] if found else None

    def recency_window_for(self, code: Icd10Code) -> RecencyWindow:
        found = narrowest(code, ((row.codes, row) for row in self.recency if row.codes is not None))
        return found[0] if found else next(row for row in self.recency if row.codes is None)

    def department_name(self, code: str) -> str:
        department = self.departments.get(code)
        return f"{code} {department.name_zh}" if department else code

    def with_recency_windows(self, months_by_group: Mapping[str, int]) -> IntakeTables:
        """A copy with some groups' windows changed (configuration overrides the reviewed defaults)."""
        unknown = set(months_by_group) - {row.group for row in self.recency}
        if unknown or any(m <= 0 for m in months_by_group.values()):
            raise DataTableError(f"recency override names unknown groups {sorted(unknown)} or a window <= 0")
        rows = tuple(
            dataclasses.replace(row, window_months=months_by_group.get(row.group, row.window_months)) for row in self.recency
        )
        return dataclasses.replace(self, recency=rows)


def _read(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != columns:
            raise DataTableError(f"{path.name}: columns {reader.fieldnames} are not {list(columns)}")
        rows: list[tuple[int, dict[str, str]]] = []
        for row in reader:
            if None in row or None in row.values():
                raise DataTableError(f"{path.name}:{reader.line_num}: wrong number of fields (quote commas)")
            rows.append((reader.line_num, {k: v.strip() for k, v in row.items()}))
    for line, row in rows:
        if not row["source"]:
            raise DataTableError(f"{path.name}:{line}: every row needs a source")
    return rows


def _parse(path: Path, line: int, what: str, parse: Callable[[str], T], value: str) -> T:
    try:
        return parse(value)
    except (ValueError, KeyError) as exc:
        raise DataTableError(f"{path.name}:{line}: bad {what} {value!r}: {exc}") from exc


def _codes(path: Path, line: int, value: str) -> CodeRange:
    return _parse(path, line, "ICD-10 codes", parse_code_range, value)


def _excluded(data_dir: Path) -> tuple[ExcludedCondition, ...]:
    path = data_dir / "excluded_conditions.csv"
    return tuple(
        ExcludedCondition(
            _codes(path, line, r["codes"]),
            _parse(path, line, "kind", ExclusionKind, r["kind"]),
            r["name_zh"],
            r["name_en"],
            r["source"],
            r["notes"],
        )
        for line, r in _read(path, ("codes", "kind", "name_zh", "name_en", "source", "notes"))
    )


def _yes_no(value: str) -> bool:
    return {"yes": True, "no": False}[value]


def _notifiable(data_dir: Path) -> tuple[NotifiableDisease, ...]:
    path = data_dir / "notifiable_infectious.csv"
    columns = (
        "codes",
        "disease_zh",
        "disease_en",
        "statutory_class",
        "managed_as_class_a",
        "report_within_hours",
        "source",
        "notes",
    )
    rows = []
    for line, r in _read(path, columns):
        hours = _parse(path, line, "hours", int, r["report_within_hours"])
        if hours <= 0:
            raise DataTableError(f"{path.name}:{line}: report_within_hours must be a positive number")
        rows.append(
            NotifiableDisease(
                _codes(path, line, r["codes"]),
                r["disease_zh"],
                r["disease_en"],
                _parse(path, line, "class", StatutoryClass, r["statutory_class"]),
                _parse(path, line, "yes/no", _yes_no, r["managed_as_class_a"]),
                hours,
                r["source"],
                r["notes"],
            )
        )
    return tuple(rows)


def _departments(data_dir: Path) -> Mapping[str, Department]:
    path = data_dir / "departments.csv"
    found: dict[str, Department] = {}
    for line, r in _read(path, ("code", "name_zh", "name_en", "source", "notes")):
        department = Department(r["code"], r["name_zh"], r["name_en"], r["source"], r["notes"])
        if not _DEPARTMENT_CODE.match(department.code) or department.code in found:
            raise DataTableError(f"{path.name}:{line}: department code {department.code!r} malformed or repeated")
        if department.parent is not None and department.parent not in found:
            raise DataTableError(f"{path.name}:{line}: {department.code} comes before its parent {department.parent}")
        found[department.code] = department
    return MappingProxyType(found)


def _icd_departments(data_dir: Path, departments: Mapping[str, Department]) -> tuple[DepartmentMapping, ...]:
    path = data_dir / "icd_departments.csv"
    rows = []
    for line, r in _read(path, ("codes", "department_codes", "source", "notes")):
        codes = tuple(r["department_codes"].split())
        unknown = [c for c in codes if c not in departments]
        if unknown:
            raise DataTableError(f"{path.name}:{line}: unknown departments {unknown}")
        if not codes and not r["notes"]:
            raise DataTableError(f"{path.name}:{line}: a row serving no department must say why in notes")
        rows.append(DepartmentMapping(_codes(path, line, r["codes"]), codes, r["source"], r["notes"]))
    return tuple(rows)


def _recency(data_dir: Path) -> tuple[RecencyWindow, ...]:
    path = data_dir / "recency.csv"
    rows: list[RecencyWindow] = []
    windows: dict[str, int] = {}
    for line, r in _read(path, ("group", "codes", "window_months", "source", "notes")):
        months = _parse(path, line, "window", int, r["window_months"])
        if months <= 0 or windows.setdefault(r["group"], months) != months:
            raise DataTableError(f"{path.name}:{line}: window must be positive and the same for the whole group")
        codes = None if r["codes"] == "*" else _codes(path, line, r["codes"])
        rows.append(RecencyWindow(r["group"], codes, months, r["source"], r["notes"]))
    if [row.codes for row in rows].count(None) != 1:
        raise DataTableError(f"{path.name}: exactly one default row (codes '*') is needed")
    return tuple(rows)


def _legacy_aliases(data_dir: Path) -> Mapping[str, str]:
    path = data_dir / "icd10_legacy_codes.csv"
    aliases: dict[str, str] = {}
    for line, r in _read(path, ("legacy_code", "who_code", "source", "notes")):
        if is_who_code(r["legacy_code"]) or not is_who_code(r["who_code"]):
            raise DataTableError(f"{path.name}:{line}: the legacy code must be gone from WHO and its target present")
        aliases[r["legacy_code"]] = r["who_code"]
    return MappingProxyType(aliases)


def _titles(data_dir: Path) -> tuple[DiagnosisTitle, ...]:
    path = data_dir / "icd10_titles_zh.csv"
    rows = []
    for line, r in _read(path, ("codes", "title_zh", "synonyms", "source", "notes")):
        if not r["title_zh"]:
            raise DataTableError(f"{path.name}:{line}: every row needs its Chinese title")
        synonyms = tuple(s.strip() for s in r["synonyms"].split(";") if s.strip())
        rows.append(DiagnosisTitle(_codes(path, line, r["codes"]), r["title_zh"], synonyms, r["source"], r["notes"]))
    return tuple(rows)


def _complications(data_dir: Path) -> tuple[Complication, ...]:
    path = data_dir / "complications.csv"
    return tuple(Complication(_codes(path, line, r["prior_codes"]), _codes(path, line, r["complication_codes"]),
                              r["source"], r["notes"])
                 for line, r in _read(path, ("prior_codes", "complication_codes", "source", "notes")))


def load_intake_tables(data_dir: Path = DATA_DIR) -> IntakeTables:
    """Read and check every intake table under `data_dir`."""
    departments = _departments(data_dir)
    return IntakeTables(
        excluded=_excluded(data_dir),
        notifiable=_notifiable(data_dir),
        departments=departments,
        icd_departments=_icd_departments(data_dir, departments),
        recency=_recency(data_dir),
        legacy_aliases=_legacy_aliases(data_dir),
        titles=_titles(data_dir),
        complications=_complications(data_dir),
    )


@cache
def intake_tables() -> IntakeTables:
    """The packaged tables, read once per process."""
    return load_intake_tables()


def tables_for(ctx: HospitalContext) -> IntakeTables:
    """The tables in force: the packaged ones with the hospital's configured recency windows."""
    overrides = ctx.recency_overrides  # {"hypertension": 6, …} overrides the reviewed windows (REV-02)
    tables = intake_tables()
    return tables.with_recency_windows(overrides) if overrides else tables
