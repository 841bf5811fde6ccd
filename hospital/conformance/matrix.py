"""The traceability matrix: per requirement, its clause, the rules that enforce it and the use cases that call
them, the tests marked as proving it, and the reviewed verdict (verdicts.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hospital.conformance.callers import rule_callers
from hospital.conformance.markers import requirement_tests
from hospital.conformance.requirements import REPO, read_requirements
from hospital.conformance.scenarios import load_scenarios
from hospital.rules_index import load_all_rules

__all__ = ["VERDICTS", "MatrixRow", "RuleRow", "build_matrix", "read_verdicts", "render_text"]

VERDICTS = ("enforced", "partly", "not built")
_LABEL = {"enforced": "enforced", "partly": "partly enforced", "not built": "not built"}


@dataclass(frozen=True, slots=True)
class RuleRow:
    rule: str  # module:function
    title: str
    called_by: list[str]


@dataclass(slots=True)
class MatrixRow:
    id: str
    clause: str
    source: str
    verdict: str
    missing: str
    rules: list[RuleRow] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)  # of the scenario suite (hospital/conformance/scenarios)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def read_verdicts() -> dict[str, dict[str, str]]:
    """verdicts.toml: requirement ID → {verdict, missing}."""
    text = resources.files("hospital.conformance").joinpath("verdicts.toml").read_text(encoding="utf-8")
    return {key: dict(value) for key, value in tomllib.loads(text).items()}


def rule_name(qualname_module: str, function: str) -> str:
    return f"{qualname_module}:{function}"


def build_matrix(shared: Path | None = None, tests_dir: Path | None = None) -> list[MatrixRow]:
    rules = load_all_rules()
    callers = rule_callers(rules, REPO)
    tests = requirement_tests(tests_dir or REPO / "tests") if (tests_dir or REPO / "tests").is_dir() else {}
    verdicts = read_verdicts()
    scenarios = load_scenarios()
    rows: list[MatrixRow] = []
    for requirement in read_requirements(shared):
        reviewed = verdicts.get(requirement.id, {})
        row = MatrixRow(requirement.id, requirement.clause, requirement.source,
                        reviewed.get("verdict", "enforced"), reviewed.get("missing", ""))
        for registered in rules:
            if registered.rule_id == requirement.id:
                function = registered.function
                row.rules.append(RuleRow(rule_name(function.__module__, function.__qualname__), registered.title,
                                         callers.get(registered.qualname, [])))
        row.tests = tests.get(requirement.id, [])
        row.scenarios = [s.name for s in scenarios if s.requirement == requirement.id]
        rows.append(row)
    return rows


def render_text(rows: list[MatrixRow]) -> str:
    lines: list[str] = []
    for row in rows:
        lines.append(f"{row.id}  [{_LABEL[row.verdict]}]  {row.clause}  ({row.source})")
        if row.missing:
            lines.append(f"    missing: {' '.join(row.missing.split())}")
        for r in row.rules:
            lines.append(f"    rule  {r.rule}  {r.title}")
            lines.append(f"          called by: {', '.join(r.called_by) or 'nothing (a rule no use case calls)'}")
        files: dict[str, int] = {}
        for node in row.tests:
            files[node.split("::")[0]] = files.get(node.split("::")[0], 0) + 1
        for path, count in files.items():
            lines.append(f"    test  {path} ({count})")
        if row.scenarios:
            lines.append(f"    scenarios ({len(row.scenarios)}): {', '.join(row.scenarios)}")
        if not row.rules and not row.tests:
            lines.append("    no rule, no marked test")
    counts = {v: sum(1 for r in rows if r.verdict == v) for v in VERDICTS}
    lines.append(f"{len(rows)} requirements: {counts['enforced']} enforced, {counts['partly']} partly enforced, "
                 f"{counts['not built']} not built")
    return "\n".join(lines)
