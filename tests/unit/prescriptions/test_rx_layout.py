"""The prescriptions area's layout (hospital/prescriptions/__init__.py): the sub-areas import only downward
(formulary < safety < writing < review < dispensing < printing), the shared record imports none above it, no sub-area's api
imports another's, and the rules and the plain values they take import no framework (DESIGN: rules are pure)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import hospital.prescriptions

AREA = Path(hospital.prescriptions.__file__).parent
PACKAGE = "hospital.prescriptions"
ORDER = ("formulary", "safety", "writing", "review", "dispensing", "printing")
SHARED = ("models.py", "rules.py", "queries.py")  # the record beneath the sub-areas
FRAMEWORKS = ("sqlmodel", "sqlalchemy", "litestar", "httpx", "aiortc")


def modules() -> Iterator[Path]:
    return iter(sorted(AREA.rglob("*.py")))


def imported(path: Path) -> set[str]:
    """Every module `path` imports, and for `from m import n` also `m.n` (n may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def sub_area_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if module.startswith(PACKAGE + ".") and len(parts) > 2 and parts[2] in ORDER else None


def sub_area_of_file(path: Path) -> str | None:
    first = path.relative_to(AREA).parts[0]
    return first if first in ORDER else None


def test_the_sub_areas_and_the_shared_record_are_where_the_docstring_says() -> None:
    assert all((AREA / name).is_dir() for name in ORDER)
    assert all((AREA / name).is_file() for name in SHARED)
    assert not [p.name for p in modules() if p.name.startswith("_") and p.name != "__init__.py"]


@pytest.mark.parametrize("sub_area", ORDER)
def test_a_sub_area_imports_no_sub_area_after_it(sub_area: str) -> None:
    allowed = set(ORDER[: ORDER.index(sub_area) + 1])
    upward = {
        f"{path.relative_to(AREA)} imports {name}"
        for path in modules()
        if sub_area_of_file(path) == sub_area
        for name in imported(path)
        if (other := sub_area_of(name)) is not None and other not in allowed
    }
    assert upward == set()


BENEATH_THE_SHARED_RECORD = ("formulary", "safety")  # their floors are below it (hospital/layers.py)


def test_the_shared_record_imports_no_sub_area_above_it() -> None:
    found = {f"{name} imports {module}" for name in SHARED for module in imported(AREA / name)
             if sub_area_of(module) not in (None, *BENEATH_THE_SHARED_RECORD)}
    assert found == set()


def test_no_sub_area_api_imports_another_sub_areas_api() -> None:
    found = {
        f"{path.relative_to(AREA)} imports {name}"
        for path in modules()
        if path.name == "api.py" and (own := sub_area_of_file(path)) is not None
        for name in imported(path)
        if name.endswith(".api") and sub_area_of(name) not in (None, own)
    }
    assert found == set()


def test_the_rules_and_their_values_import_no_framework() -> None:
    pure = [p for p in modules() if p.name in ("rules.py", "values.py", "documents.py") or p.parent.name == "rules"]
    assert len(pure) >= 7
    found = {
        f"{path.relative_to(AREA)} imports {name}"
        for path in pure
        for name in imported(path)
        if name.split(".")[0] in FRAMEWORKS
    }
    assert found == set()
