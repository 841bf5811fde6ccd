"""Every refusal can be told in Chinese and in English (issue 14): the catalogues in hospital/core/data cover every
registered rule, every requirement a refusal names, every error class and every keyed sentence the code uses."""

from __future__ import annotations

import os
import re
import string
from pathlib import Path

import pytest

from hospital.core import errors as e
from hospital.core.messages import LANGUAGES, Message, _messages, _rule_texts, negotiate, say
from hospital.core.problems import told
from hospital.rules_index import load_all_rules

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [*ROOT.joinpath("hospital").rglob("*.py"), *ROOT.joinpath("connectors").rglob("*.py")]
HAN = re.compile(r"[\u4e00-\u9fff]")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_registered_rule_has_a_chinese_title_and_what_to_do_in_both_languages() -> None:
    texts = _rule_texts()
    for registered in load_all_rules():
        entry = texts.get(registered.qualname)
        assert entry is not None, f"{registered.qualname} ({registered.rule_id}) has no entry in rule_texts.json"
        assert HAN.search(entry["title_zh"]), registered.qualname
        assert HAN.search(entry["action"]["zh-CN"]), registered.qualname
        assert entry["action"]["en"].strip() and not HAN.search(entry["action"]["en"][:1]), registered.qualname
    known = {r.qualname for r in load_all_rules()}
    assert set(texts) <= known, f"texts for rules that are gone: {sorted(set(texts) - known)}"


def test_every_requirement_and_every_rule_id_the_code_raises_has_both_texts() -> None:
    requirements = _messages()["requirements"]
    shared = Path(os.environ.get("HOSPITAL_SHARED_DIR", ROOT.parent / "shared"))
    listed = set(re.findall(r"^\| *([A-Z]+-\d+) *\|", (shared / "REQUIREMENTS.md").read_text(encoding="utf-8"), re.M))
    assert len(listed) >= 40, "REQUIREMENTS.md was not read"
    raised = {m for path in SOURCES for m in re.findall(
        r"(?:RuleViolation|AccessRefused|LockedOut|ServiceStopped|ServiceUnavailable)\(\s*\"([A-Z]+-\d+)\"|rule_id=\"([A-Z]+-\d+)\"",
        path.read_text(encoding="utf-8")) for m in m if m}
    registered = {r.rule_id for r in load_all_rules()}
    for rule_id in listed | raised | registered:
        entry = requirements.get(rule_id)
        assert entry is not None, f"{rule_id} has no entry in messages.json requirements"
        for language in LANGUAGES:
            assert entry[language]["title"].strip() and entry[language]["detail"].strip(), (rule_id, language)
        assert HAN.search(entry["zh-CN"]["title"]) and HAN.search(entry["zh-CN"]["detail"]), rule_id


def _subclasses(cls: type[e.HospitalError]) -> list[type[e.HospitalError]]:
    return [cls, *(s for sub in cls.__subclasses__() for s in _subclasses(sub))]


def test_every_error_class_has_both_texts() -> None:
    errors = _messages()["errors"]
    for cls in _subclasses(e.HospitalError):
        if cls.__module__ != e.__name__:
            continue
        entry = errors.get(cls.__name__)
        assert entry is not None, f"{cls.__name__} has no entry in messages.json errors"
        assert HAN.search(entry["zh-CN"]["title"]) and HAN.search(entry["zh-CN"]["detail"]), cls.__name__
        assert entry["en"]["title"].strip(), cls.__name__


def test_every_keyed_sentence_the_code_says_exists_in_both_languages_with_the_same_parameters() -> None:
    messages = _messages()["messages"]
    used = {key for path in SOURCES for key in re.findall(r"say\(\s*\"([a-z0-9_.]+)\"", path.read_text(encoding="utf-8"))}
    assert used, "no say(...) found: the scan is broken"
    assert used <= set(messages), f"keys said but not in messages.json: {sorted(used - set(messages))}"
    for key, entry in messages.items():
        assert HAN.search(entry["zh-CN"]["title"]) and HAN.search(entry["zh-CN"]["detail"]), key
        assert _fields(entry["zh-CN"]["detail"]) <= _fields(entry["en"]["detail"]), key


def test_a_refusal_with_parameters_is_told_in_the_readers_language() -> None:
    refusal = e.RuleViolation("REV-02", say("intake.diagnosis_too_old", diagnosed_on="2024-01-02", window_months=12,
                                            group="chronic", expires_on="2025-01-02"))
    assert isinstance(refusal.said, Message) and "older than the 12-month window" in str(refusal)
    assert type(refusal.detail) is str  # what encoders see is a plain str
    zh, en = told(refusal, "zh-CN"), told(refusal, "en")
    assert zh.title == "既往诊断已超过复诊有效期" and "2024-01-02" in zh.detail and "12个月" in zh.detail
    assert en.detail.startswith("the diagnosis of 2024-01-02 is older than the 12-month window")


def test_a_refusal_without_a_sentence_of_its_own_is_told_by_its_rule_in_chinese() -> None:
    from hospital.patients.rules import check_phone

    with pytest.raises(e.RuleViolation) as refused:
        check_phone("12345")
    assert refused.value.raised_by == "hospital.patients.rules.check_phone"
    zh = told(refused.value, "zh-CN")
    assert zh.title == "手机号不正确" and zh.detail == "请填写11位中国大陆手机号。"
    en = told(refused.value, "en")
    assert en.title == "A mainland mobile number for real-name contact" and en.detail == refused.value.detail
    plain = told(e.Conflict("a thing exists"), "zh-CN")
    assert HAN.search(plain.title) and HAN.search(plain.detail)


@pytest.mark.parametrize(("header", "language"), [
    (None, "zh-CN"), ("", "zh-CN"), ("en", "en"), ("en-GB,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    ("fr-FR, en;q=0.5", "en"), ("en;q=0.3, zh-TW;q=0.7", "zh-CN"), ("de", "zh-CN"), ("en;q=0", "zh-CN"),
    ("*;q=0.1", "zh-CN"), ("garbage;;;", "zh-CN"),
])
def test_accept_language_picks_the_language(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_hospital_rules_lists_every_rule_with_its_texts_in_both_languages() -> None:
    import json

    from click.testing import CliRunner

    from hospital.cli import main

    listed = CliRunner().invoke(main, ["rules", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert len(rows) == len(load_all_rules())
    assert all(HAN.search(r["title_zh"]) and HAN.search(r["action"]["zh-CN"]) and r["action"]["en"] for r in rows)
    chinese = CliRunner().invoke(main, ["rules", "--lang", "zh-CN"])
    assert "手机号不正确" in chinese.output and chinese.exit_code == 0
