"""The reviewed intake tables in `data/`, read once into the frozen values of `tables` and checked as they load
(the consent texts are `consent_texts.py`).

Every CSV row carries a `source` (and `notes`); a row that names an unknown kind, a code that is not a WHO
ICD-10 code or range, or an unknown department stops the load with `DataTableError`. `tables_for(ctx)` gives
the tables in force, with the configured recency windows (REV-02 "configurable").
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

from hospital.visits.icd10 import CodeRange, is_who_code, parse_code_range
from hospital.visits.intake.tables import (
    Complication,
    DataTableError,
    Department,
    DepartmentMapping,
    DiagnosisTitle,
    ExcludedCondition,
    ExclusionKind,
    IntakeTables,
    NotifiableDisease,
    RecencyWindow,
    StatutoryClass,
)

if TYPE_CHECKING:
    from hospital.context import HospitalContext

__all__ = ["DATA_DIR", "intake_tables", "load_intake_tables", "tables_for"]

T = TypeVar("T")

DATA_DIR = Path(__file__).parent / "data"
_DEPARTMENT_CODE = re.compile(r"^\d{2}(\.\d{2})?$")


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
