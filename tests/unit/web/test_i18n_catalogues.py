"""The interface strings: both languages carry the same keys, every key the pages use exists, and the
page language is chosen as the switch promises (Chinese first)."""

from __future__ import annotations

import json
import re

import pytest

from hospital.web.i18n import DEFAULT_LANGUAGE, FRONTEND_DIR, LANGUAGES, catalogue, language_of, translator

# Keys the templates and modules name literally: t("…"), t('…').
_LITERAL = re.compile(r"""\bt\(\s*["']([a-z][a-z0-9_]*(?:\.[A-Za-z0-9_-]+)+)["']\s*[,)]""")


def _used_keys() -> set[str]:
    used: set[str] = set()
    for path in [*(FRONTEND_DIR / "templates").rglob("*.html"), *(FRONTEND_DIR / "static" / "js").rglob("*.js")]:
        used |= set(_LITERAL.findall(path.read_text(encoding="utf-8")))
    return used


def test_english_has_exactly_the_keys_of_chinese() -> None:
    zh, en = (json.loads((FRONTEND_DIR / "i18n" / f"{lang}.json").read_text(encoding="utf-8")) for lang in LANGUAGES)
    assert set(zh) == set(en)
    assert all(text.strip() for text in [*zh.values(), *en.values()])


def test_every_key_a_page_uses_is_in_the_catalogue() -> None:
    used = _used_keys()
    assert len(used) > 100  # the scan found the pages' strings
    assert sorted(used - set(catalogue(DEFAULT_LANGUAGE))) == []


def test_a_catalogue_missing_a_key_is_refused_at_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "zh-CN.json").write_text('{"a": "甲", "b": "乙"}', encoding="utf-8")
    (tmp_path / "en.json").write_text('{"a": "A"}', encoding="utf-8")
    with pytest.raises(ValueError, match="missing"):
        catalogue("en", tmp_path)


def test_chinese_is_the_default_and_the_query_wins_over_the_cookie() -> None:
    assert language_of({}, {}) == "zh-CN"
    assert language_of({}, {"lang": "en"}) == "en"
    assert language_of({"lang": "zh-CN"}, {"lang": "en"}) == "zh-CN"
    assert language_of({"lang": "fr"}, {}) == "zh-CN"  # only the languages we have


def test_placeholders_are_filled_and_a_missing_string_shows_its_key() -> None:
    t = translator("en")
    assert t("home.welcome", name="示范互联网医院") == "Welcome to 示范互联网医院"
    assert t("no.such.key") == "no.such.key"


def test_the_call_modules_use_the_shared_session_api_and_strings() -> None:
    """call.js (the call inside a visit page and on its own page) keeps no session key, fetch wrapper or text
    of its own: session.js, api.js and the catalogues (i18n.js) serve it as they serve every page."""
    js = FRONTEND_DIR / "static" / "js"
    for path in (js / "call.js", js / "pages" / "call.js"):
        source = path.read_text(encoding="utf-8")
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("//"))
        assert "sessionStorage" not in code and "fetch(" not in code, path.name
        assert not re.search(r"[\u4e00-\u9fff]", code), path.name  # every text through t()
    source = (js / "call.js").read_text(encoding="utf-8")
    for module in ("./api.js", "./i18n.js", "./session.js"):
        assert f'from "{module}"' in source
    assert [p.name for p in (js.rglob("*.js")) if "sessionStorage" in p.read_text(encoding="utf-8")] == ["session.js"]
