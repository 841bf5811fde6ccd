"""Reading the formulary's CSV tables: typed fields, and errors that name the file, line and column."""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TypeVar

__all__ = ["FormularyError", "Row", "read_table"]

E = TypeVar("E", bound=enum.Enum)

# An ATC code at any level from the therapeutic subgroup down ("M01A", "C09AA", "C08CA01").
_ATC_PREFIX = re.compile(r"^[A-Z][0-9]{2}[A-Z]([A-Z]([0-9]{2})?)?$")
_ATC_ANY = re.compile(r"^[A-Z][0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?$")
_ATC_SUBSTANCE = re.compile(r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$")
_ICD10_CATEGORY = re.compile(r"^[A-Z][0-9]{2}$")


class FormularyError(ValueError):
    """A formulary data file is malformed; the message names the file, line and column."""


class Row:
    """One CSV row with typed accessors; every failure raises `FormularyError` pointing at the cell."""

    def __init__(self, file: str, line: int, values: dict[str, str]) -> None:
        self.file, self.line, self._values = file, line, values

    def error(self, column: str, problem: str) -> FormularyError:
        return FormularyError(f"{self.file} line {self.line}, column {column!r}: {problem}")

    def text(self, column: str) -> str:
        value = self.optional_text(column)
        if not value:
            raise self.error(column, "must not be empty")
        return value

    def optional_text(self, column: str) -> str:
        return (self._values.get(column) or "").strip()

    def decimal(self, column: str) -> Decimal:
        raw = self.text(column)
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise self.error(column, f"{raw!r} is not a decimal number") from None
        if not value.is_finite() or value <= 0:
            raise self.error(column, f"{raw!r} must be a positive number")
        return value

    def optional_decimal(self, column: str) -> Decimal | None:
        return self.decimal(column) if self.optional_text(column) else None

    def money(self, column: str) -> Decimal:
        value = self.decimal(column)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise self.error(column, f"{value} has more than two decimals (fen)")
        return value

    def integer(self, column: str, *, low: int, high: int) -> int:
        raw = self.text(column)
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise self.error(column, f"{raw!r} must be a whole number from {low} to {high}")
        return int(raw)

    def choice(self, column: str, allowed: frozenset[str]) -> str:
        value = self.text(column)
        if value not in allowed:
            raise self.error(column, f"unknown value {value!r}; expected one of {sorted(allowed)}")
        return value

    def enum(self, column: str, kind: type[E]) -> E:
        value = self.choice(column, frozenset(str(member.value) for member in kind))
        return kind(value)

    def flag(self, column: str) -> bool:
        return self.choice(column, frozenset({"yes", "no"})) == "yes"

    def atc(self, column: str, *, substance: bool = False) -> str:
        value = self.text(column)
        pattern = _ATC_SUBSTANCE if substance else _ATC_PREFIX
        if not pattern.match(value):
            kind = "an ATC substance code (e.g. C08CA01)" if substance else "an ATC code or class (e.g. C09AA)"
            raise self.error(column, f"{value!r} is not {kind}")
        return value

    def atc_list(self, column: str, *, required: bool = True) -> tuple[str, ...]:
        values = tuple(self.optional_text(column).split())
        if required and not values:
            raise self.error(column, "must list at least one ATC code")
        for value in values:
            if not _ATC_ANY.match(value):
                raise self.error(column, f"{value!r} is not an ATC code or class")
        return values

    def icd10_range(self, column: str) -> tuple[str, str]:
        value = self.text(column)
        first, _, last = value.partition("-")
        last = last or first
        if not (_ICD10_CATEGORY.match(first) and _ICD10_CATEGORY.match(last)) or first > last:
            raise self.error(column, f"{value!r} is not an ICD-10 category or range like I10-I15")
        return first, last


def read_table(path: Traversable | Path, columns: tuple[str, ...]) -> Iterator[Row]:
    """Yield the rows of the CSV at `path`, after checking its header is exactly `columns`."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormularyError(f"{name}: file not found") from None
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    if header != columns:
        raise FormularyError(f"{name}: header must be {','.join(columns)}; found {','.join(header)}")
    for values in reader:
        if None in values:
            raise FormularyError(f"{name} line {reader.line_num}: more cells than columns")
        yield Row(name, reader.line_num, values)
