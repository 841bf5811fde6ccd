"""Interface strings in Chinese (zh-CN, the default) and English, for templates and the page scripts.

One catalogue per language in `frontend/i18n/<lang>.json`, flat `key → text`. The server renders templates with
it and embeds the same catalogue in each page for the ES modules (`static/js/i18n.js`), so every string lives
in one place. The language is the `lang` query parameter or cookie, else Chinese.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_LANGUAGE", "FRONTEND_DIR", "LANGUAGES", "catalogue", "language_of", "translator"]

FRONTEND_DIR = Path(__file__).resolve().parents[2] / "frontend"
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


@cache
def catalogue(language: str, directory: Path = FRONTEND_DIR / "i18n") -> Mapping[str, str]:
    """The strings of `language`; ValueError when its keys differ from the default language's."""
    strings: dict[str, str] = json.loads((directory / f"{language}.json").read_text(encoding="utf-8"))
    if language != DEFAULT_LANGUAGE:
        reference = catalogue(DEFAULT_LANGUAGE, directory)
        missing, extra = set(reference) - set(strings), set(strings) - set(reference)
        if missing or extra:
            raise ValueError(f"catalogue {language}: missing {sorted(missing)}, unknown {sorted(extra)}")
    return strings


def language_of(query: Mapping[str, Any], cookies: Mapping[str, str]) -> str:
    """The page language: `?lang=` wins, then the `lang` cookie set by the switch, else Chinese."""
    for wanted in (query.get("lang"), cookies.get("lang")):
        if wanted in LANGUAGES:
            return str(wanted)
    return DEFAULT_LANGUAGE


def translator(language: str) -> Callable[..., str]:
    """`t(key, **values)`: the string for `key` with `{name}` placeholders filled; the key itself if absent,
    so a missing string shows up on the page instead of vanishing."""
    strings = catalogue(language)

    def t(key: str, **values: Any) -> str:
        text = strings.get(key, key)
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    return t
