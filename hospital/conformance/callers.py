"""Which use cases call each registered rule: a static scan of hospital/ and connectors/ for the places that
name the rule's function (a call, or a reference in a table of checks), reported as module:function. A place
inside a rules module (an aggregate check such as `check_intake`) is followed up to the code that calls it, so
the list ends at services, gates and views: the use cases."""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from hospital.core.rule_registry import RegisteredRule

__all__ = ["rule_callers"]


@dataclass
class _Place:
    module: str
    name: str  # the function, or the module-level name a table of checks is assigned to
    refers: set[tuple[str, str]] = field(default_factory=set)  # (name, module it was imported from or defined in)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _places(root: Path) -> list[_Place]:
    places: list[_Place] = []
    for package in ("hospital", "connectors"):
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = _module_name(path, root)
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            imported: dict[str, str] = {}
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module:
                    for alias in node.names:
                        imported[alias.asname or alias.name] = node.module

            def refs(node: ast.AST, module: str = module, imported: dict[str, str] = imported) -> set[tuple[str, str]]:
                found: set[tuple[str, str]] = set()
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                        found.add((sub.id, imported.get(sub.id, module)))
                    elif isinstance(sub, ast.Attribute):
                        found.add((sub.attr, "*"))
                return found

            for statement in tree.body:
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    places.append(_Place(module, statement.name, refs(statement)))
                elif isinstance(statement, ast.ClassDef):
                    for sub in statement.body:
                        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                            places.append(_Place(module, f"{statement.name}.{sub.name}", refs(sub)))
                elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
                    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                    for target in targets:
                        if isinstance(target, ast.Name) and statement.value is not None:
                            places.append(_Place(module, target.id, refs(statement.value)))
    return places


def _is_rules_module(module: str) -> bool:
    return module.endswith(".rules") or ".rules." in module


def _names(place: _Place, name: str, home: str) -> bool:
    if place.module == home and place.name == name:
        return False
    return any(n == name and (m == "*" or m == home or home.startswith(m + ".")) for n, m in place.refers)


def rule_callers(rules: list[RegisteredRule], root: Path) -> dict[str, list[str]]:
    """Rule qualname → sorted `module:function` of the use cases (outside rules modules) that reach it."""
    places = _places(root)
    index: dict[str, list[_Place]] = defaultdict(list)
    for place in places:
        for name, _ in place.refers:
            index[name].append(place)
    result: dict[str, list[str]] = {}
    for registered in rules:
        reached: set[str] = set()
        seen: set[tuple[str, str]] = set()
        frontier = [(registered.function.__name__, registered.function.__module__)]
        while frontier:
            name, home = frontier.pop()
            for place in index.get(name, []):
                if not _names(place, name, home) or (place.module, place.name) in seen:
                    continue
                seen.add((place.module, place.name))
                if _is_rules_module(place.module):
                    frontier.append((place.name.split(".")[-1], place.module))
                else:
                    reached.add(f"{place.module}:{place.name}")
        result[registered.qualname] = sorted(reached)
    return result
