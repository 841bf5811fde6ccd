"""Proof by removal (`hospital conformance prove`): each registered rule in turn is swapped for a no-op that finds
nothing (hospital.conformance.mutation), and the tests that prove its requirement are run in this process with
pytest; a rule whose removal fails none of them is unproven.

The tests of a requirement are those marked `@pytest.mark.requirement(ID)` (hospital.conformance.markers) under
the chosen paths (by default the fast ones: tests/unit and tests/conformance) plus the scenarios of the
requirement in the scenario suite (tests/conformance/test_scenarios.py plays them in-process on SQLite). The
tests run once unmutated first: a test that fails anyway would "prove" every rule.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hospital.conformance.markers import requirement_tests
from hospital.conformance.mutation import disabled, noop_for
from hospital.conformance.requirements import REPO
from hospital.core.rule_registry import RegisteredRule
from hospital.rules_index import load_all_rules

__all__ = ["FAST_PATHS", "Proof", "baseline", "prove_rules", "tests_for"]

FAST_PATHS = ("tests/unit", "tests/conformance")
SCENARIO_TEST = "tests/conformance/test_scenarios.py::test_scenario"


@dataclass(frozen=True, slots=True)
class Proof:
    rule: str  # module:function
    requirement: str
    verdict: str  # proven | unproven | not swappable | error
    detail: str  # the test that failed without the rule, or why not
    tests: int
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class _FirstFailure:
    """A pytest plugin that remembers the first failed test."""

    def __init__(self) -> None:
        self.failed: str | None = None

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed and self.failed is None:
            self.failed = report.nodeid


def _scenario_nodes(requirement: str) -> list[str]:
    from hospital.conformance.scenarios import load_scenarios

    return [f"{SCENARIO_TEST}[{s.name}]" for s in load_scenarios() if s.requirement == requirement]


def tests_for(requirement: str, paths: Iterable[str] = FAST_PATHS, scenarios: bool = True) -> list[str]:
    chosen = tuple(p.rstrip("/") for p in paths)
    marked = [n for n in requirement_tests(REPO / "tests").get(requirement, [])
              if any(n == c or n.startswith((c + "/", c + "::")) for c in chosen)]
    return marked + (_scenario_nodes(requirement) if scenarios else [])


def _run(nodes: list[str], *, stop_first: bool) -> tuple[int, str | None, str]:
    import pytest

    os.environ.setdefault("HOSPITAL_TEST_DATABASES", "sqlite")
    os.environ.setdefault("HOSPITAL_CONFORMANCE_PLATFORM_CHECKS", "off")  # the rules' refusals, not the deliveries
    os.environ.setdefault("HOSPITAL_SHARED_DIR", str(REPO.parent / "shared"))
    plugin = _FirstFailure()
    args = ["-q", "-n", "0", "-p", "no:cacheprovider", "--rootdir", str(REPO), "-W", "ignore",
            *(["-x"] if stop_first else []), *nodes]
    output = io.StringIO()
    cwd = Path.cwd()
    os.chdir(REPO)
    try:
        with contextlib.redirect_stdout(output):
            code = int(pytest.main(args, plugins=[plugin]))
    finally:
        os.chdir(cwd)
    return code, plugin.failed, output.getvalue()


def baseline(nodes: list[str]) -> tuple[bool, str]:
    """Run `nodes` unmutated: (all passed, pytest's output)."""
    if not nodes:
        return True, ""
    code, _, output = _run(nodes, stop_first=False)
    return code == 0, output


def _prove(registered: RegisteredRule, nodes: list[str]) -> Proof:
    function = registered.function
    name = f"{function.__module__}:{function.__qualname__}"
    started = time.monotonic()
    if noop_for(registered) is None:
        return Proof(name, registered.rule_id, "not swappable",
                     "the rule computes a value the use case needs; it has no no-op", len(nodes), 0.0)
    if not nodes:
        return Proof(name, registered.rule_id, "unproven", "no test is marked with its requirement", 0, 0.0)
    with disabled(registered):
        code, failed, output = _run(nodes, stop_first=True)
    seconds = round(time.monotonic() - started, 2)
    if code == 1 and failed:
        return Proof(name, registered.rule_id, "proven", f"fails without it: {failed}", len(nodes), seconds)
    if code == 0:
        return Proof(name, registered.rule_id, "unproven", "every marked test passes without it", len(nodes), seconds)
    return Proof(name, registered.rule_id, "error", f"pytest exit {code}: {output[-500:]}", len(nodes), seconds)


def prove_rules(requirements: Iterable[str] = (), paths: Iterable[str] = FAST_PATHS,
                scenarios: bool = True) -> tuple[list[Proof], bool, str]:
    """Prove every rule (of `requirements`, or all): the proofs, whether the unmutated baseline passed, its output."""
    wanted = set(requirements)
    rules = [r for r in load_all_rules() if not wanted or r.rule_id in wanted]
    paths = tuple(paths)
    nodes = {rid: tests_for(rid, paths, scenarios) for rid in sorted({r.rule_id for r in rules})}
    everything = sorted({n for ns in nodes.values() for n in ns})
    passed, output = baseline(everything)
    if not passed:
        return [], False, output
    return [_prove(r, nodes[r.rule_id]) for r in rules], True, output
