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


def _broken(tmp_path: Path, old: str, new: str, name: str = "formulary.csv") -> str:
    """`hospital formulary check` on a copy of the tables with `old` replaced by `new` in `name`; its output."""
    for table in DATA.iterdir():
        if table.name.endswith(".csv"):
            shutil.copyfile(str(table), tmp_path / table.name)
    path = tmp_path / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = CliRunner().invoke(formulary, ["check", str(tmp_path)])
    assert result.exit_code == 1
    return result.output


def test_check_fails_on_a_broken_table_naming_the_cell(tmp_path: Path) -> None:
    assert "column 'antimicrobial_grade'" in _broken(tmp_path, ",special,", ",very-special,")


def test_check_refuses_a_row_without_a_cited_source(tmp_path: Path) -> None:
    output = _broken(tmp_path, "说明书 阿莫西林胶囊: 成人一次0.5g 每6–8小时1次; 一日剂量不超过4g; 说明书 阿莫西林胶囊: "
                               "一次0.5–1g; 小儿一日按体重20–40mg/kg", "")
    assert "column 'source'" in output


def test_check_refuses_an_uncited_source(tmp_path: Path) -> None:
    output = _broken(tmp_path, "说明书 阿莫西林胶囊: 成人一次0.5g 每6–8小时1次; 一日剂量不超过4g; 说明书 阿莫西林胶囊: "
                               "一次0.5–1g; 小儿一日按体重20–40mg/kg", "a colleague said so")
    assert "column 'source'" in output and "must cite" in output


def test_check_refuses_a_controlled_drug_whose_atc_contradicts_its_class(tmp_path: Path) -> None:
    # diazepam (N05BA01, 第二类精神药品) marked as an ordinary drug
    output = _broken(tmp_path, "10,40,,bid tid qid qn,,,,7,psychotropic_2,", "10,40,,bid tid qid qn,,,,7,none,")
    assert "column 'controlled_class'" in output and "N05BA01" in output and "psychotropic_2" in output


def test_check_refuses_a_class_no_national_list_gives_its_atc(tmp_path: Path) -> None:
    # cetirizine (R06AE07) is on no list of specially managed drugs in China
    output = _broken(tmp_path, "10,10,,qd bid,,6,,28,none,none,8.60", "10,10,,qd bid,,6,,28,psychotropic_2,none,8.60")
    assert "column 'controlled_class'" in output and "on no national list" in output


def test_check_refuses_a_missing_single_dose_limit_without_a_no_limit_note(tmp_path: Path) -> None:
    assert "column 'max_single_dose'" in _broken(tmp_path, "tablet,mg,10,10,,qd", "tablet,mg,,10,,qd")


def test_check_accepts_a_missing_single_dose_limit_with_the_no_limit_note(tmp_path: Path) -> None:
    for table in DATA.iterdir():
        if table.name.endswith(".csv"):
            shutil.copyfile(str(table), tmp_path / table.name)
    path = tmp_path / "formulary.csv"
    text = path.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("C08CA01-tab-5mg"))
    edited = line.replace("tablet,mg,10,10,,qd", "tablet,mg,,10,,qd").replace(",hypertension; angina",
                                                                          ",no label maximum per dose; hypertension")
    path.write_text(text.replace(line, edited), encoding="utf-8")

    result = CliRunner().invoke(formulary, ["check", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert "C08CA01-tab-5mg" in result.output  # listed: the pharmacist sees each row without a limit


def test_drug_shows_the_label_maximum_and_classes() -> None:
    result = CliRunner().invoke(formulary, ["drug", "N02AA01-tab-10mg"])

    assert result.exit_code == 0
    assert "max daily dose: 100 mg" in result.output
    assert "max single dose: 30 mg" in result.output
    assert "controlled: narcotic" in result.output


def test_drug_refuses_an_unknown_code() -> None:
    result = CliRunner().invoke(formulary, ["drug", "NOPE"])

    assert result.exit_code == 1
    assert "no drug 'NOPE'" in result.output
