"""The values of the reviewed intake tables (REV-02, REV-03, REV-04): one frozen row type per table, and
`IntakeTables` with the lookups the rules need (which exclusion, which department, which recency window), so the
rules stay pure and a test or a hospital can pass its own tables. `reference` reads them from `data/`.

Booking and the encounter read these tables too (department names, legacy ICD-10 aliases, notifiable
diseases): intake is the lowest sub-area that needs them, so they live here.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from hospital.visits.icd10 import CodeRange, Icd10Code, narrowest

__all__ = [
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
    "normalise_name",
]


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
