"""`hospital conformance matrix`: the marker scan, and the matrix the command prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hospital.cli import main
from hospital.conformance.markers import MarkError, requirement_tests, scan_file

SAMPLE = '''
import pytest

pytestmark = [pytest.mark.asyncio, pytest.mark.requirement("RX-02")]


def test_module_level() -> None: ...


@pytest.mark.requirement("RX-03", "RX-04")
def test_decorated() -> None: ...


@pytest.mark.requirement("FACE-02")
class TestGroup:
    async def test_in_class(self) -> None: ...

    def helper(self) -> None: ...


def not_a_test() -> None: ...
'''


def test_the_scan_reads_module_decorator_and_class_marks(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_sample.py").write_text(SAMPLE)
    assert scan_file(tmp_path / "tests" / "test_sample.py", "tests/test_sample.py") == {
        "tests/test_sample.py::test_module_level": ["RX-02"],
        "tests/test_sample.py::test_decorated": ["RX-02", "RX-03", "RX-04"],
        "tests/test_sample.py::TestGroup::test_in_class": ["FACE-02", "RX-02"],
    }
    assert requirement_tests(tmp_path / "tests")["RX-04"] == ["tests/test_sample.py::test_decorated"]


def test_a_mark_the_scan_cannot_read_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "test_bad.py").write_text("import pytest\nID = 'RX-02'\npytestmark = pytest.mark.requirement(ID)\n")
    with pytest.raises(MarkError):
        scan_file(tmp_path / "test_bad.py", "test_bad.py")


def test_the_matrix_names_rules_their_callers_tests_and_reviewed_verdicts(shared_dir: Path) -> None:
    result = CliRunner().invoke(main, ["conformance", "matrix", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.output)}
    assert len(rows) >= 40
    rx02 = rows["RX-02"]
    assert rx02["verdict"] == "enforced"
    rules = {r["rule"]: r for r in rx02["rules"]}
    assert "hospital.prescriptions.writing.rules.eligibility:no_specially_managed_drugs" in rules
    assert "hospital.prescriptions.writing.service.prescribing:_prepare" in rules[
        "hospital.prescriptions.writing.rules.eligibility:no_specially_managed_drugs"]["called_by"]
    assert any(t.startswith("tests/unit/prescriptions/test_rx_visit_rules.py::") for t in rx02["tests"])
    assert "rx-02-diazepam" in rx02["scenarios"]
    partly = [row for row in rows.values() if row["verdict"] == "partly"]
    assert partly and all(row["missing"] for row in partly)
    sup01 = rows["SUP-01"]  # reviewed "not built" until the connector's gate came with its rule
    assert sup01["verdict"] == "enforced" and not sup01["missing"]
    assert [r["rule"] for r in sup01["rules"]] == ["connectors.supervision.rules:check_platform_connected"]
    assert "tests/unit/supervision/test_platform_gate.py::test_clinical_work_waits_for_a_configured_platform_that_" \
           "accepted_the_hospital" in sup01["tests"]


def test_the_text_matrix_shows_the_verdicts_and_what_is_missing(shared_dir: Path) -> None:
    result = CliRunner().invoke(main, ["conformance", "matrix"])
    assert result.exit_code == 0, result.output
    assert "RX-07  [partly enforced]" in result.output
    assert "missing: The third duty" in result.output
    assert "requirements:" in result.output.splitlines()[-1]
