"""What a refusal says to a person, in zh-CN (the default) and English (issue 14).

Three catalogues in `hospital/core/data/`, each text in both languages:

- `rule_texts.json`: for every registered rule (by qualname) its Chinese title (the English title is the one the
  `@rule` decorator gives) and the sentence saying what to do, in both languages;
- `messages.json` `requirements`: for every requirement ID a title and a what-to-do sentence, used when a
  service (not a registered rule) refuses in a requirement's name;
- `messages.json` `errors`: for every `HospitalError` class a title and a general sentence;
- `messages.json` `messages`: keyed sentences with `{parameters}` for the refusals that say something specific
  (a wrong password, a phone already registered, a diagnosis too old). A raise site passes `say(key, **params)`
  as its detail: a `str` in English (logs, tools, `str(exc)` unchanged) that also knows its key, so the problem
  body can be told in the reader's language.

`tests/unit/core/test_messages.py` fails when any rule, requirement, error class or key used in the code lacks either
language. The API picks the language by `Accept-Language` (`negotiate`), default Chinese.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Message", "Text", "error_text", "message_entry", "negotiate",
           "requirement_text", "rule_text", "say"]

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True, slots=True)
class Text:
    """A title and a what-to-do sentence in one language."""

    title: str
    detail: str


@cache
def _messages() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "messages.json").read_text(encoding="utf-8"))
    return loaded


@cache
def _rule_texts() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "rule_texts.json").read_text(encoding="utf-8"))
    return loaded


def _in(entry: dict[str, Any], language: str) -> Any:
    return entry.get(language) or entry[DEFAULT_LANGUAGE]


def error_text(class_name: str, language: str) -> Text | None:
    entry = _messages()["errors"].get(class_name)
    return Text(**_in(entry, language)) if entry else None


def requirement_text(rule_id: str, language: str) -> Text | None:
    entry = _messages()["requirements"].get(rule_id)
    return Text(**_in(entry, language)) if entry else None


def rule_text(qualname: str, english_title: str, language: str) -> Text | None:
    """The registered rule's own title and what-to-do sentence (`english_title` is the decorator's)."""
    entry = _rule_texts().get(qualname)
    if entry is None:
        return None
    title = english_title if language == "en" else entry["title_zh"]
    return Text(title, _in(entry["action"], language))


def message_entry(key: str) -> dict[str, Any] | None:
    entry: dict[str, Any] | None = _messages()["messages"].get(key)
    return entry


class Message(str):
    """An English sentence from the `messages` catalogue that remembers its key and parameters."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, **params: Any) -> Message:
        entry = message_entry(key)
        if entry is None:
            raise KeyError(f"no message {key!r} in hospital/core/data/messages.json")
        made = super().__new__(cls, entry["en"]["detail"].format(**params))
        made.key = key
        made.params = params
        return made

    def told(self, language: str) -> Text:
        """Title (None-free: empty when the entry has none) and detail in `language`."""
        entry = message_entry(self.key) or {}
        text = _in(entry, language)
        return Text(text.get("title", ""), text["detail"].format(**self.params))


def say(key: str, **params: Any) -> Message:
    """The detail of a refusal from the catalogue: `raise NotAuthenticated(say("identity.wrong_password"))`."""
    return Message(key, **params)


_TAG = re.compile(r"\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*")


def negotiate(accept_language: str | None) -> str:
    """The language to answer in from an `Accept-Language` header: the highest-weighted of zh-CN and en the
    reader accepts (any zh is Chinese, any en English), else Chinese."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        match = _TAG.fullmatch(part)
        if not match:
            continue
        tag, weight = match.group(1).lower(), match.group(2)
        try:
            q = float(weight) if weight is not None else 1.0
        except ValueError:
            continue
        language = "zh-CN" if tag.split("-")[0] == "zh" else "en" if tag.split("-")[0] == "en" else None
        if language is None or q <= 0:
            continue
        if best is None or (q, -position) > (best[0], best[1]):
            best = (q, -position, language)
    return best[2] if best else DEFAULT_LANGUAGE
