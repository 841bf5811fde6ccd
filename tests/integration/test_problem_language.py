"""Refusals in the reader's language (issue 14): `Accept-Language` picks zh-CN (default) or English, the answer
says which in `Content-Language`, the title is the rule's own reason, and every problem type is a public page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from hospital.rules_index import load_all_rules
from tests.integration.test_foundation_api import NEW_PATIENT, VALID_ID, _fix_check_digit

HAN = re.compile(r"[\u4e00-\u9fff]")
# An English sentence: three Latin words in a row (rule IDs, dates and codes such as "REV-02" are not).
ENGLISH = re.compile(r"[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}")
WRONG = {"username": "doctor.wang", "password": "nope-2026"}


def _said(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("header", "language"), [(None, "zh-CN"), ("zh-CN,zh;q=0.9", "zh-CN"), ("en-GB,en;q=0.8", "en")])
async def test_a_wrong_password_says_so_in_the_language_asked(
    client: AsyncTestClient[Any], demo: None, header: str | None, language: str
) -> None:
    del client.headers["Accept-Language"]  # the suite's default (English, as a tool) is not what is tested here
    headers = {"Accept-Language": header} if header else {}
    wrong = await client.post("/api/auth/login", json=WRONG, headers=headers)
    assert wrong.status_code == 401 and wrong.headers["content-language"] == language, wrong.text
    body = _said(wrong)
    if language == "zh-CN":
        assert body["title"] == "用户名或密码不正确" and HAN.search(body["detail"]), wrong.text
        assert not ENGLISH.search(body["title"] + body["detail"]), wrong.text
    else:
        assert body["title"] == "Wrong username or password" and body["detail"] == "wrong username or password"


async def test_a_rule_refusal_is_told_by_its_own_rule_in_chinese_and_english(client: AsyncTestClient[Any], demo: None) -> None:
    bad_phone = {**NEW_PATIENT, "id_number": VALID_ID, "phone": "12345"}
    zh = await client.post("/api/patients", json=bad_phone, headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 422 and zh.headers["content-language"] == "zh-CN", zh.text
    assert _said(zh)["rule_id"] == "PAT-01" and _said(zh)["title"] == "手机号不正确", zh.text
    assert _said(zh)["type"] == "/problems/PAT-01" and not ENGLISH.search(_said(zh)["detail"]), zh.text
    en = await client.post("/api/patients", json=bad_phone)
    assert en.headers["content-language"] == "en" and _said(en)["title"] == "A mainland mobile number for real-name contact"


async def test_a_phone_already_registered_says_so(client: AsyncTestClient[Any], demo: None) -> None:
    assert (await client.post("/api/patients", json={**NEW_PATIENT, "id_number": VALID_ID})).status_code == 201
    other_id = _fix_check_digit("11010119850101123")
    again = await client.post("/api/patients", json={**NEW_PATIENT, "id_number": other_id},
                              headers={"Accept-Language": "zh-CN"})
    assert again.status_code == 409 and _said(again)["title"] == "该手机号已注册", again.text
    assert "请直接登录" in _said(again)["detail"] and _said(again)["rule_id"] == "PAT-01"


async def test_framework_refusals_speak_the_language_too(client: AsyncTestClient[Any]) -> None:
    missing = await client.get("/api/no-such-thing", headers={"Accept-Language": "zh-CN"})
    assert missing.status_code == 404 and missing.headers["content-language"] == "zh-CN"
    assert HAN.search(_said(missing)["title"]) and not ENGLISH.search(_said(missing)["detail"]), missing.text
    invalid = await client.post("/api/auth/login", json={"username": 3}, headers={"Accept-Language": "zh-CN"})
    assert invalid.status_code == 400 and HAN.search(_said(invalid)["title"]), invalid.text


async def test_every_rule_has_a_public_page_in_both_languages(client: AsyncTestClient[Any], demo: None) -> None:
    rule_ids = sorted({r.rule_id for r in load_all_rules()})
    for rule_id in rule_ids:
        for language in ("zh-CN", "en"):
            page = await client.get(f"/problems/{rule_id}", params={"lang": language})
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), (rule_id, page.text)
            assert f'<html lang="{language}">' in page.text and rule_id in page.text
            titles = [r.title for r in load_all_rules() if r.rule_id == rule_id]
            if language == "en":
                assert all(t.replace("'", "&#39;") in page.text for t in titles), rule_id
            else:
                assert HAN.search(page.text.split("<main", 1)[1]), rule_id
    assert (await client.get("/problems/NOPE-99")).status_code == 404
