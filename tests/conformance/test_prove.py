"""`hospital conformance prove`: a rule whose removal fails a marked test is proven (exit 0); when the removal is
made to change nothing (as if the tests could not catch the rule), the rule is unproven and the command exits 1.
Run in a subprocess: prove runs pytest itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PROVE = ["conformance", "prove", "QA-02", "--no-scenarios", "--json"]

# The no-op of QA-02's service-open rule is made the rule itself: its "removal" removes nothing, so no test can fail.
TOOTHLESS = """
import sys
from hospital.conformance import mutation
real = mutation.noop_for
def keeps_the_rule(registered):
    if registered.qualname.endswith("institution.rules.check_service_open"):
        return registered.function.__wrapped__
    return real(registered)
mutation.noop_for = keeps_the_rule
from hospital.cli import main
sys.exit(main(sys.argv[1:]))
"""


def prove(*prefix: str) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOSPITAL_TEST_DATABASES": "sqlite"}
    done = subprocess.run([sys.executable, *prefix, *PROVE], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)
    return done.returncode, json.loads(done.stdout or "{}")


def test_a_rule_whose_removal_fails_a_test_is_proven() -> None:
    code, report = prove("-m", "hospital")
    assert code == 0, report
    proofs = {p["rule"]: p for p in report["proofs"]}
    assert {"hospital.institution.rules:check_service_open", "hospital.institution.rules:check_service_stop_reason",
            "hospital.institution.rules:check_service_stop_confirmation"} <= set(proofs)
    assert all(p["verdict"] == "proven" and p["detail"].startswith("fails without it: tests/") for p in proofs.values())


def test_a_rule_no_test_notices_missing_is_unproven_and_the_command_fails() -> None:
    code, report = prove("-c", TOOTHLESS)
    assert code == 1
    proofs = {p["rule"]: p for p in report["proofs"]}
    proof = proofs.pop("hospital.institution.rules:check_service_open")
    assert proof["verdict"] == "unproven" and proof["detail"] == "every marked test passes without it"
    assert all(p["verdict"] == "proven" for p in proofs.values())
    assert report["totals"] == {"proven": len(proofs), "unproven": 1, "not swappable": 0, "error": 0}
