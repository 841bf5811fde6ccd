"""The conformance catalogue: every requirement in ../shared/REQUIREMENTS.md is enforced by a registered rule or
exercised by a test that names its ID, or is listed below as not yet built, with the reason.

`hospital rules` lists the registered rules; this test keeps the catalogue and the code from drifting apart.
"""

from __future__ import annotations

import re
from pathlib import Path

from hospital.rules_index import load_all_rules

TESTS = Path(__file__).resolve().parents[1]

# Requirements no code enforces yet. Each entry says why; removing one without building it fails the test.
NOT_YET_BUILT: dict[str, str] = {}


def requirement_ids(shared_dir: Path) -> list[str]:
    return re.findall(r"^\| ([A-Z]+-\d+) \|", (shared_dir / "REQUIREMENTS.md").read_text(), re.M)


def test_every_requirement_is_enforced_or_tested_or_declared_pending(shared_dir: Path) -> None:
    ids = requirement_ids(shared_dir)
    assert len(ids) >= 40
    ruled = {r.rule_id for r in load_all_rules()}
    tested = "\n".join(p.read_text() for p in TESTS.rglob("*.py") if p.name != Path(__file__).name)
    # A test names a requirement in its assertions (rule_id == "RX-02") or in its docstring ("(INS-03)").
    uncovered = [i for i in ids if i not in ruled and not re.search(rf"\b{i}\b", tested) and i not in NOT_YET_BUILT]
    assert uncovered == [], f"requirements with no rule and no test naming them: {uncovered}"


def test_pending_requirements_are_really_pending(shared_dir: Path) -> None:
    ruled = {r.rule_id for r in load_all_rules()}
    assert set(NOT_YET_BUILT) <= set(requirement_ids(shared_dir))
    assert not set(NOT_YET_BUILT) & ruled, "a requirement now enforced must leave NOT_YET_BUILT"


def test_every_registered_rule_names_a_real_requirement(shared_dir: Path) -> None:
    ids = set(requirement_ids(shared_dir))
    strays = sorted({r.rule_id for r in load_all_rules()} - ids)
    assert strays == [], f"rules registered under IDs not in REQUIREMENTS.md: {strays}"
