"""The reviewed table of authorities a data leak is reported to (`data/authorities.csv`, SEC-02)."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from hospital.security.incidents.rules import Authority

__all__ = ["AUTHORITIES_FILE", "AuthorityTableError", "load_authorities"]

AUTHORITIES_FILE = Path(__file__).parent / "data" / "authorities.csv"
WHEN = ("leak", "personal_information")


class AuthorityTableError(ValueError):
    """The table is malformed; the message names the file and line."""


@functools.cache
def load_authorities(path: Path = AUTHORITIES_FILE) -> tuple[Authority, ...]:
    rows: list[Authority] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            where = f"{path.name}:{line}"
            values = {k: (row.get(k) or "").strip() for k in ("code", "name_zh", "name_en", "reported_when", "source")}
            if not all(values.values()):
                raise AuthorityTableError(f"{where}: every column is filled (code, names, reported_when, source)")
            if values["reported_when"] not in WHEN:
                raise AuthorityTableError(f"{where}: reported_when is one of {list(WHEN)}")
            if any(a.code == values["code"] for a in rows):
                raise AuthorityTableError(f"{where}: duplicate code {values['code']!r}")
            rows.append(Authority(**values))
    if not any(a.reported_when == "leak" for a in rows):
        raise AuthorityTableError(f"{path.name}: no authority is told of every leak")
    return tuple(rows)
