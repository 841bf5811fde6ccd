"""The informed-consent text (PAT-02)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from hospital.core.errors import InvalidInput, NotFound
from hospital.visits.intake.consent_texts import (
    CONSENT_DIR,
    CONSENT_PLACEHOLDERS,
    consent_version_number,
    current_consent_version,
    load_consent,
    render_consent,
)

pytestmark = pytest.mark.requirement("PAT-02")

VALUES = {"hospital_name": "浦东示范互联网医院", "licence_number": "PDX-2025-0001", "complaint_phone": "021-00000000",
          "doctor_information": "- 王医生，主任医师"}


def test_the_current_version_is_v2_in_chinese_and_english() -> None:
    assert current_consent_version() == "v2"
    assert load_consent().language == "zh"
    assert load_consent("v2", "en").version == "v2"


def test_both_languages_carry_the_same_placeholders() -> None:
    pattern = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
    found = {lang: set(pattern.findall(load_consent("v2", lang).template)) for lang in ("zh", "en")}
    assert found["zh"] == found["en"] == set(CONSENT_PLACEHOLDERS)


def test_the_current_text_names_the_hospital_and_the_doctors_information_pd_14_asks_for() -> None:
    text = load_consent().template
    for words in ("{{hospital_name}}", "{{licence_number}}", "{{doctor_information}}", "医师执业证书编码", "执业范围",
                  "职称", "儿科"):
        assert words in text


@pytest.mark.parametrize(
    "words",
    ["首诊", "甲类传染病", "危急重症", "120", "终止在线诊疗", "药师审核", "15 年", "3 年", "生物识别", "监护人", "风险"],
)
def test_the_chinese_text_states_the_rules_and_risks(words: str) -> None:
    assert words in load_consent().template


def test_rendering_names_the_hospital_and_its_licence() -> None:
    text = render_consent(load_consent(), VALUES)
    assert "浦东示范互联网医院" in text
    assert "PDX-2025-0001" in text
    assert "{{" not in text


def test_rendering_refuses_to_leave_a_placeholder_empty() -> None:
    with pytest.raises(InvalidInput) as caught:
        render_consent(load_consent(), {**VALUES, "licence_number": " "})
    assert caught.value.extra["missing"] == ["licence_number"]


def test_a_new_version_file_becomes_current(tmp_path: Path) -> None:
    directory = tmp_path / "consent"
    shutil.copytree(CONSENT_DIR, directory)
    shutil.copy(directory / "consent_v1.zh.md", directory / "consent_v10.zh.md")
    shutil.copy(directory / "consent_v1.zh.md", directory / "consent_v11.en.md")  # English alone is not a version
    assert current_consent_version(directory) == "v10"
    with pytest.raises(NotFound):
        load_consent("v10", "en", directory)


def test_the_text_fingerprint_changes_with_the_text() -> None:
    zh, en = load_consent("v1", "zh"), load_consent("v1", "en")
    assert len(zh.sha256) == 64
    assert zh.sha256 != en.sha256


def test_versions_are_compared_by_number() -> None:
    assert consent_version_number("v10") > consent_version_number("v9")
    with pytest.raises(InvalidInput):
        consent_version_number("2025-01")
