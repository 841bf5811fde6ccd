"""ICD-10 validation against the WHO list (REV-02)."""

from __future__ import annotations

import pytest

from hospital.core.errors import RuleViolation
from hospital.visits.icd10 import CodeRange, narrowest, parse_code_range, validate_icd10
from hospital.visits.intake.tables import IntakeTables

pytestmark = pytest.mark.requirement("REV-02")


@pytest.mark.parametrize(
    ("given", "code", "normalised"),
    [
        ("E11.9", "E11.9", "E11.9"),
        ("E119", "E11.9", "E119"),
        (" e11.9 ", "E11.9", "E11.9"),
        ("E11.2†", "E11.2", "E11.2"),
        ("N08.3*", "N08.3", "N08.3"),
        ("E11.900", "E11.9", "E11.900"),
        ("I10.x00x002", "I10", "I10.x00x002"),
        ("J44.100", "J44.1", "J44.100"),
        ("B18.10", "B18.10", "B18.10"),
    ],
)
def test_who_and_national_clinical_forms_are_read_as_their_who_code(given: str, code: str, normalised: str) -> None:
    found = validate_icd10(given)
    assert (found.code, found.given) == (code, normalised)
    assert found.category == code[:3]
    assert found.title


def test_the_title_comes_from_the_who_list() -> None:
    assert validate_icd10("A00").title == "Cholera"


@pytest.mark.parametrize("given", ["I10.7", "E11.99", "E11.90", "Z99.99", "A90", "A99.900", "U00"])
def test_codes_missing_from_the_who_list_are_refused(given: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        validate_icd10(given)
    assert caught.value.rule_id == "REV-02"
    assert "WHO ICD-10 2019" in caught.value.detail


@pytest.mark.parametrize("given", ["", "hypertension", "I10-I15", "110", "E1", "E11.9.1", "IV"])
def test_malformed_codes_are_refused(given: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        validate_icd10(given)
    assert "not in ICD-10 form" in caught.value.detail


def test_a_legacy_dengue_code_is_read_through_the_alias_table(tables: IntakeTables) -> None:
    assert validate_icd10("A90.x00", aliases=tables.legacy_aliases).code == "A97"
    assert validate_icd10("K35.0", aliases=tables.legacy_aliases).code == "K35.2"


def test_a_range_holds_the_subdivisions_of_both_ends_and_nothing_else() -> None:
    stroke = parse_code_range("I60-I64")
    assert stroke.contains("I60.0")
    assert stroke.contains("I64")
    assert stroke.contains(validate_icd10("I63.900"))
    assert not stroke.contains("I65")
    assert not stroke.contains("I59.9")


def test_a_subcategory_range_excludes_its_parent_category() -> None:
    failure = parse_code_range("J96.0")
    assert failure.contains("J96.0")
    assert not failure.contains("J96")
    assert not failure.contains("J96.1")


@pytest.mark.parametrize("text", ["I64-I60", "I10-", "XYZ", "I10-I15-I20", "I10.x00", "IV"])
def test_bad_ranges_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"range|WHO ICD-10"):
        parse_code_range(text)


def test_the_narrowest_matching_range_wins() -> None:
    rows = [
        (CodeRange("A00", "B99"), "chapter"),
        (CodeRange("A22", "A22"), "anthrax"),
        (CodeRange("A22.1", "A22.1"), "pulmonary"),
    ]
    assert narrowest(validate_icd10("A22.1"), rows) == ["pulmonary"]
    assert narrowest(validate_icd10("A22.0"), rows) == ["anthrax"]
    assert narrowest(validate_icd10("C50.9"), rows) == []
