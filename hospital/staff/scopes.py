"""The reviewed table of 执业范围 (a doctor's registered practice scope) and the 诊疗科目 each covers (STAFF-03).

`data/practice_scopes.csv`: one row per (执业类别, 执业范围) with the department codes of the national catalogue
it covers; a 一级科目 ("03") covers its 二级科目 ("03.04"), as on the licence (INS-02). Every row cites its
source. A scope that is not in the table covers nothing: the administrator registers it here first, reviewed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

__all__ = ["SCOPES_FILE", "PracticeScope", "PracticeScopeTableError", "load_practice_scopes", "practice_scopes"]

SCOPES_FILE = Path(__file__).parent / "data" / "practice_scopes.csv"
_COLUMNS = ("category", "scope_zh", "department_codes", "source", "notes")
_DEPARTMENT = re.compile(r"^\d{2}(\.\d{2})?$")


class PracticeScopeTableError(ValueError):
    """The scope table is malformed; the message names the line."""


@dataclass(frozen=True, slots=True)
class PracticeScope:
    category: str  # 执业类别: 临床, 口腔, 中医, 公共卫生
    scope_zh: str  # 执业范围: 内科专业 …
    department_codes: tuple[str, ...]
    source: str
    notes: str


def load_practice_scopes(path: Path = SCOPES_FILE) -> Mapping[str, PracticeScope]:
    """The table by 执业范围; refuses unknown columns, empty sources, malformed or missing codes, repeats."""
    found: dict[str, PracticeScope] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != _COLUMNS:
            raise PracticeScopeTableError(f"{path.name}: columns {reader.fieldnames} are not {list(_COLUMNS)}")
        for row in reader:
            line = reader.line_num
            if None in row or None in row.values():
                raise PracticeScopeTableError(f"{path.name}:{line}: wrong number of fields")
            values = {k: v.strip() for k, v in row.items()}
            codes = tuple(values["department_codes"].split())
            if not values["source"] or not codes or not all(_DEPARTMENT.match(c) for c in codes):
                raise PracticeScopeTableError(f"{path.name}:{line}: a source and well-formed department codes needed")
            if values["scope_zh"] in found:
                raise PracticeScopeTableError(f"{path.name}:{line}: {values['scope_zh']} is listed twice")
            found[values["scope_zh"]] = PracticeScope(values["category"], values["scope_zh"], codes,
                                                      values["source"], values["notes"])
    return MappingProxyType(found)


@cache
def practice_scopes() -> Mapping[str, PracticeScope]:
    return load_practice_scopes()
