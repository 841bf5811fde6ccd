"""Integrity of the bundled formulary tables, and the loader's refusal of malformed ones."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from hospital.prescriptions.formulary.tables import NO_LABEL_MAXIMUM, FormularyError, load_formulary
from hospital.prescriptions.formulary.values import AntimicrobialGrade, ControlledClass, Formulary, Frequency

pytestmark = pytest.mark.requirement("RX-02", "RX-03", "RX-04")

DATA = resources.files("hospital.prescriptions.formulary") / "data"


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(DATA.joinpath(name).read_text(encoding="utf-8").splitlines()))


def test_drug_codes_are_unique_in_the_file() -> None:
    duplicates = [code for code, n in Counter(r["code"] for r in _rows("formulary.csv")).items() if n > 1]

    assert duplicates == []


def test_every_drug_has_a_max_daily_dose_or_documents_that_its_label_has_none(formulary: Formulary) -> None:
    without = {d.generic_name for d in formulary if d.max_daily_dose is None}

    assert without == {"warfarin", "oxycodone", "fentanyl"}
    assert all(NO_LABEL_MAXIMUM in d.notes for d in formulary if d.max_daily_dose is None)


def test_every_drug_has_a_single_dose_limit_or_documents_that_its_label_has_none(formulary: Formulary) -> None:
    without = {d.generic_name for d in formulary if d.max_single_dose is None}

    assert without == {"warfarin", "oxycodone", "fentanyl"}
    assert all(NO_LABEL_MAXIMUM in d.notes for d in formulary if d.max_single_dose is None)
    assert all(d.max_single_dose <= d.max_daily_dose for d in formulary
               if d.max_single_dose is not None and d.max_daily_dose is not None)


def test_every_drug_names_its_frequencies_and_weekly_drugs_their_weekly_maximum(formulary: Formulary) -> None:
    assert all(d.frequencies for d in formulary)
    assert all(d.max_weekly_dose is not None for d in formulary if Frequency.QW in d.frequencies)
    assert all((Frequency.PRN in d.frequencies) == (d.prn_max_per_day is not None) for d in formulary)


def test_every_controlled_class_value_is_known_and_each_class_has_a_drug(formulary: Formulary) -> None:
    raw = {r["controlled_class"] for r in _rows("formulary.csv")}

    assert raw == {c.value for c in ControlledClass}
    assert {r["antimicrobial_grade"] for r in _rows("formulary.csv")} == {g.value for g in AntimicrobialGrade}


def test_every_incompatibility_names_formulary_substances_or_documents_them_as_external(formulary: Formulary) -> None:
    substances = {d.atc_code for d in formulary}

    for interaction in formulary.interactions:
        for side in (interaction.substance_a, interaction.substance_b):
            on_formulary = any(s.startswith(side) for s in substances)
            assert on_formulary != (side in interaction.external), side


def test_every_row_names_its_source(formulary: Formulary) -> None:
    assert all(d.source for d in formulary)
    assert all(i.source and i.mechanism for i in formulary.interactions)
    assert all(i.source for i in formulary.indications)


def test_every_chronic_drug_is_indicated_for_a_chronic_disease(formulary: Formulary) -> None:
    chronic = [i for i in formulary.indications if i.chronic]

    orphans = [d.code for d in formulary if d.chronic and not any(i.indicates(d.atc_code) for i in chronic)]

    assert orphans == []


def test_every_drug_is_indicated_for_some_disease(formulary: Formulary) -> None:
    orphans = [d.code for d in formulary if not any(i.indicates(d.atc_code) for i in formulary.indications)]

    assert orphans == []


def test_the_demo_formulary_covers_the_common_chronic_diseases(formulary: Formulary) -> None:
    for category in ("I10", "E11", "E78", "I25", "J45", "J44", "M10", "E03", "K21"):
        indicated = [d for d in formulary for i in formulary.indications_for(category) if i.indicates(d.atc_code)]
        assert indicated, category


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    for table in DATA.iterdir():
        if table.name.endswith(".csv"):
            shutil.copyfile(str(table), tmp_path / table.name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_copy_of_the_bundled_data_loads(data_copy: Path) -> None:
    assert len(load_formulary(data_copy)) == len(load_formulary())


def test_an_unknown_controlled_class_is_refused_at_load(data_copy: Path) -> None:
    _edit(data_copy / "formulary.csv", ",narcotic,none,8.60", ",opioid,none,8.60")

    with pytest.raises(FormularyError, match=r"formulary.csv line \d+, column 'controlled_class'.*'opioid'"):
        load_formulary(data_copy)


def test_a_duplicate_drug_code_is_refused_at_load(data_copy: Path) -> None:
    path = data_copy / "formulary.csv"
    first_drug = path.read_text(encoding="utf-8").splitlines()[1]
    path.write_text(path.read_text(encoding="utf-8") + first_drug + "\n", encoding="utf-8")

    with pytest.raises(FormularyError, match="duplicate code 'C08CA01-tab-5mg'"):
        load_formulary(data_copy)


def test_a_missing_max_daily_dose_without_explanation_is_refused_at_load(data_copy: Path) -> None:
    _edit(data_copy / "formulary.csv", "tablet,mg,10,10,,qd", "tablet,mg,10,,,qd")

    with pytest.raises(FormularyError, match="max_daily_dose"):
        load_formulary(data_copy)


def test_a_chronic_antimicrobial_is_refused_at_load(data_copy: Path) -> None:
    _edit(data_copy / "formulary.csv", "unrestricted,11.80,36,no", "unrestricted,11.80,36,yes")

    with pytest.raises(FormularyError, match="cannot be marked chronic"):
        load_formulary(data_copy)


def test_an_incompatibility_with_an_undocumented_substance_is_refused_at_load(data_copy: Path) -> None:
    _edit(
        data_copy / "incompatibilities.csv",
        "(avoid omeprazole and esomeprazole); 说明书 波立维,",
        "(avoid omeprazole and esomeprazole); 说明书 波立维,\nA02BC05,B01AC04,major,esomeprazole,FDA Plavix,",
    )

    with pytest.raises(FormularyError, match="A02BC05 matches no formulary drug"):
        load_formulary(data_copy)


def test_a_wrong_header_is_refused_at_load(data_copy: Path) -> None:
    _edit(data_copy / "allergen_groups.csv", "group,aliases", "name,aliases")

    with pytest.raises(FormularyError, match=r"allergen_groups\.csv: header must be"):
        load_formulary(data_copy)


def test_no_approval_number_is_invented_and_a_malformed_one_is_refused(data_copy: Path) -> None:
    """国药准字 only where a source names it (none does today): blank loads as None, the payload's null."""
    assert all(drug.approval_number is None for drug in load_formulary().drugs.values())
    _edit(data_copy / "formulary.csv", "C08CA01-tab-5mg,amlodipine,苯磺酸氨氯地平片,C08CA01,,",
          "C08CA01-tab-5mg,amlodipine,苯磺酸氨氯地平片,C08CA01,H10950224,")
    with pytest.raises(FormularyError, match=r"column 'approval_number'.*国药准字"):
        load_formulary(data_copy)
    _edit(data_copy / "formulary.csv", ",C08CA01,H10950224,", ",C08CA01,国药准字H00000000,")
    assert load_formulary(data_copy).get("C08CA01-tab-5mg").approval_number == "国药准字H00000000"  # type: ignore[union-attr]
