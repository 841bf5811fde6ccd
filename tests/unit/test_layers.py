"""No arrow runs back up: every module imports only its own floor and the floors below (hospital/layers.py)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from hospital.layers import LAYERS, layer_of

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("hospital", "connectors")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def runtime_imports(source: str, module: str, is_package: bool) -> list[tuple[str, int]]:
    """(imported module or module.name, line) for every import that runs, i.e. not under `if TYPE_CHECKING:`."""
    found: list[tuple[str, int]] = []

    def walk(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                walk(node.orelse)
            elif isinstance(node, ast.Import):
                found.extend((alias.name, node.lineno) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                found.extend((f"{target}.{alias.name}", node.lineno) for alias in node.names)
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        walk([n for n in inner if isinstance(n, ast.stmt | ast.ExceptHandler)])  # type: ignore[misc]
                if isinstance(node, ast.ExceptHandler):
                    walk(node.body)

    walk(ast.parse(source).body)
    return found


def upward_arrows(module: str, source: str, is_package: bool, known: set[str]) -> list[str]:
    floor = layer_of(module)
    arrows: list[str] = []
    for target, line in runtime_imports(source, module, is_package):
        if not target.startswith(PACKAGES):
            continue
        while target not in known and "." in target:  # `from pkg import name`: the name may be a module or not
            target = target.rsplit(".", 1)[0]
        target_floor = layer_of(target)
        if floor is not None and target_floor is not None and target_floor > floor:
            arrow = f"{module}:{line} imports {target} (floor {target_floor} > {floor})"
            if arrow not in arrows:
                arrows.append(arrow)
    return arrows


def test_every_module_has_a_floor() -> None:
    assert [m for m in MODULES if layer_of(m) is None] == []


def test_no_module_imports_a_floor_above_its_own() -> None:
    known = set(MODULES)
    arrows = [arrow for module, path in MODULES.items()
              for arrow in upward_arrows(module, path.read_text(), path.name == "__init__.py", known)]
    assert arrows == [], "arrows running back up (hospital/layers.py):\n" + "\n".join(arrows)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.endswith("__main__")))
def test_every_module_imports(module: str) -> None:
    importlib.import_module(module)


def test_the_check_sees_an_upward_arrow_and_ignores_annotations() -> None:
    known = {"hospital.institution.service", "hospital.prescriptions.writing.service", "hospital.core.errors"}
    source = ("from typing import TYPE_CHECKING\nfrom hospital.core.errors import NotFound\n"
              "if TYPE_CHECKING:\n    from hospital.prescriptions.writing import service\n"
              "def f():\n    from hospital.prescriptions.writing.service import write\n")
    arrows = upward_arrows("hospital.institution.service", source, False, known)
    assert len(arrows) == 1 and "hospital.prescriptions.writing.service" in arrows[0] and ":6 " in arrows[0]
    assert layer_of("hospital") == 0 and layer_of("hospital.visits.booking.rules") == layer_of("hospital.visits.booking")
    assert layer_of("connectors.supervision.dispatcher") == len(LAYERS) - 2
