"""The tests that prove each requirement: a static scan of the `requirement` marks in tests/.

Why a scan and not `pytest --collect-only`: collecting imports every test module (Playwright, aiortc, the
app) and takes tens of seconds; the marks are written literally, as a module's `pytestmark` or a decorator, so
reading them from the source finds the same tests in well under a second and needs no test dependencies. A
mark whose arguments are not string literals is an error here (the scan would otherwise miss it), and
tests/conformance/test_catalogue.py checks the scan against pytest's own collection of one module.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

__all__ = ["MarkError", "requirement_tests", "scan_file"]


class MarkError(ValueError):
    """A requirement mark the scan cannot read (its arguments are not string literals)."""


def _requirement_ids(node: ast.expr, where: str) -> list[str] | None:
    """The IDs of `pytest.mark.requirement("A", "B")`, or None when `node` is another expression."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "requirement"):
        return None
    target = node.func.value
    if not (isinstance(target, ast.Attribute) and target.attr == "mark"):
        return None
    ids: list[str] = []
    for argument in node.args:
        if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
            raise MarkError(f"{where}: requirement marks take string literals")
        ids.append(argument.value)
    if not ids:
        raise MarkError(f"{where}: a requirement mark names at least one ID")
    return ids


def _marks_of(expressions: list[ast.expr], where: str) -> list[str]:
    found: list[str] = []
    for expression in expressions:
        items = expression.elts if isinstance(expression, (ast.List, ast.Tuple)) else [expression]
        for item in items:
            ids = _requirement_ids(item, where)
            if ids:
                found += ids
    return found


def scan_file(path: Path, node_prefix: str) -> dict[str, list[str]]:
    """Node id (`node_prefix::test` or `::Class::test`) → the requirement IDs it is marked with."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    module_ids: list[str] = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                     for t in statement.targets):
            module_ids += _marks_of([statement.value], f"{node_prefix} pytestmark")
    marked: dict[str, list[str]] = {}

    def visit(body: list[ast.stmt], prefix: str, inherited: list[str]) -> None:
        for statement in body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name.startswith("test"):
                ids = inherited + _marks_of(statement.decorator_list, f"{prefix}::{statement.name}")
                if ids:
                    marked[f"{prefix}::{statement.name}"] = sorted(set(ids))
            elif isinstance(statement, ast.ClassDef) and statement.name.startswith("Test"):
                class_ids = _marks_of(statement.decorator_list, f"{prefix}::{statement.name}")
                for sub in statement.body:
                    if isinstance(sub, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                           for t in sub.targets):
                        class_ids += _marks_of([sub.value], f"{prefix}::{statement.name} pytestmark")
                visit(statement.body, f"{prefix}::{statement.name}", inherited + class_ids)

    visit(tree.body, node_prefix, module_ids)
    return marked


def requirement_tests(tests_dir: Path) -> dict[str, list[str]]:
    """Requirement ID → the node ids (relative to the repository) of the tests marked with it, sorted."""
    root = tests_dir.parent
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted(tests_dir.rglob("test_*.py")):
        for node, ids in scan_file(path, path.relative_to(root).as_posix()).items():
            for requirement in ids:
                found[requirement].add(node)
    return {requirement: sorted(nodes) for requirement, nodes in sorted(found.items())}
