"""`hospital formulary check` and `hospital formulary drug`."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from click.testing import CliRunner

from hospital.prescriptions.formulary.cli import formulary

DATA = resources.files("hospital.prescriptions.formulary") / "data"


def test_check_reports_the_bundled_tables_valid() -> None:
    result = CliRunner().invoke(formulary, ["check"])

    assert result.exit_code == 0
    assert result.output.strip().endswith(": OK")


def test_check_fails_on_a_broken_table_naming_the_cell(tmp_path: Path) -> None:
    for name in ("formulary.csv", "incompatibilities.csv", "disease_drug_classes.csv", "allergen_groups.csv"):
        shutil.copyfile(str(DATA.joinpath(name)), tmp_path / name)
    path = tmp_path / "formulary.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",special,", ",very-special,", 1), encoding="utf-8")

    result = CliRunner().invoke(formulary, ["check", str(tmp_path)])

    assert result.exit_code == 1
    assert "column 'antimicrobial_grade'" in result.output


def test_drug_shows_the_label_maximum_and_classes() -> None:
    result = CliRunner().invoke(formulary, ["drug", "N02AA01-tab-10mg"])

    assert result.exit_code == 0
    assert "max daily dose: 100 mg" in result.output
    assert "controlled: narcotic" in result.output


def test_drug_refuses_an_unknown_code() -> None:
    result = CliRunner().invoke(formulary, ["drug", "NOPE"])

    assert result.exit_code == 1
    assert "no drug 'NOPE'" in result.output
