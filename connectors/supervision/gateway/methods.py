"""The gateway's methods and their fields as the SDK spells them, loaded from `data/` (SUP-02).

`data/methods.csv` lists the methods; `data/fields.csv` lists each method's fields, whether each is
required (`yes`, `no`, `if_minor`: when `age` < 6, `if_doctor`: when `doctorWorkType` is 1 (a doctor),
`one_of:GROUP`: at least one field of the group),
and which fields form the business key (`id`) and its version (`version`). Item fields are written
`orderList[].drcode`.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hospital.core.errors import InvalidInput

__all__ = [
    "FieldSpec",
    "MethodSpec",
    "UnknownMethod",
    "all_methods",
    "business_key",
    "is_empty",
    "method_spec",
    "missing_required",
]

DATA = Path(__file__).parent / "data"
MINOR_AGE = 6  # REV-05: a guardian is recorded for children under 6
DOCTOR = "1"  # doctorWorkType: 1 doctor, 2 pharmacist, 3 nurse


class UnknownMethod(InvalidInput):
    title = "Unknown gateway method"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    required: str  # yes | no | if_minor | one_of:GROUP
    key: str  # id | version | ""
    source: str
    notes: str

    @property
    def item_of(self) -> str | None:
        """The list a field belongs to (`orderList` for `orderList[].drcode`), else None."""
        return self.name.split("[]", 1)[0] if "[]." in self.name else None

    @property
    def leaf(self) -> str:
        return self.name.split("[].", 1)[-1]


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    title: str
    business_record: bool  # a rating (uploadBusinessInfoAfter) may refer to these records
    time_field: str
    fields: tuple[FieldSpec, ...]

    @property
    def id_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.key == "id")

    @property
    def version_field(self) -> str | None:
        return next((f.name for f in self.fields if f.key == "version"), None)

    @property
    def version_fields(self) -> tuple[str, ...]:
        """The fields whose values make a version: the change time, and for a record whose state moves (a consult
        started then ended, an appointment booked then cancelled) its state, so two states stamped within one
        second are two versions."""
        return tuple(f.name for f in self.fields if f.key == "version")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@functools.cache
def all_methods() -> dict[str, MethodSpec]:
    """Every method in the data files, by name."""
    fields: dict[str, list[FieldSpec]] = {}
    for row in _read("fields.csv"):
        fields.setdefault(row["method"], []).append(
            FieldSpec(row["field"], row["required"], row["key"], row["source"], row["notes"])
        )
    return {
        row["method"]: MethodSpec(
            row["method"], row["title"], row["business_record"] == "yes", row["time_field"],
            tuple(fields.get(row["method"], ())),
        )
        for row in _read("methods.csv")
    }


def method_spec(method: str) -> MethodSpec:
    try:
        return all_methods()[method]
    except KeyError as exc:
        raise UnknownMethod(f"unknown gateway method {method!r}") from exc


def is_empty(value: Any) -> bool:
    """The platform's notion of an empty field: missing, null, blank text or an empty list (0 is a value)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, dict)):
        return not value
    return False


def _is_minor(record: Mapping[str, Any]) -> bool:
    try:
        return int(str(record.get("age", "")).strip()) < MINOR_AGE
    except ValueError:
        return False


def _applies(required: str, record: Mapping[str, Any]) -> bool:
    if required == "if_minor":
        return _is_minor(record)
    if required == "if_doctor":
        return str(record.get("doctorWorkType", "")).strip() == DOCTOR
    return required == "yes"


def _missing_in(specs: list[FieldSpec], record: Mapping[str, Any], prefix: str) -> list[str]:
    missing: list[str] = []
    groups: dict[str, list[str]] = {}
    for spec in specs:
        name = spec.leaf
        if spec.required.startswith("one_of:"):
            groups.setdefault(spec.required, []).append(name)
        elif _applies(spec.required, record) and is_empty(record.get(name)):
            missing.append(prefix + name)
    for names in groups.values():
        if all(is_empty(record.get(n)) for n in names):
            missing.append("/".join(prefix + n for n in names))
    return missing


@functools.cache
def _required_layout(method: str) -> tuple[list[FieldSpec], list[tuple[str, list[FieldSpec]]]]:
    """A method's top-level fields, and its item lists with their fields (split once: every record is checked)."""
    spec = method_spec(method)
    lists = list(dict.fromkeys(f.item_of for f in spec.fields if f.item_of))
    return ([f for f in spec.fields if f.item_of is None],
            [(name, [f for f in spec.fields if f.item_of == name]) for name in lists])


def missing_required(method: str, record: Mapping[str, Any]) -> list[str]:
    """The required fields of `method` that `record` leaves empty, in data-file order; items are named
    `orderList[0].drcode`. A group where one field suffices is named `CAInfo/doctorSign`."""
    top, lists = _required_layout(method)
    missing = _missing_in(top, record, "")
    for list_name, item_specs in lists:
        items = record.get(list_name)
        if not isinstance(items, list):
            continue  # an absent or empty list is reported by its own row when required
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                missing.append(f"{list_name}[{index}]")
                continue
            missing += _missing_in(item_specs, item, f"{list_name}[{index}].")
    return missing


def business_key(method: str, record: Mapping[str, Any]) -> tuple[str, str]:
    """(business ID, version) of a record: the `id` fields joined with `|`, and the `version` fields joined with
    `|` (or "")."""
    spec = method_spec(method)
    business_id = "|".join(str(record.get(name, "")) for name in spec.id_fields)
    version = "|".join(str(record.get(name, "") or "") for name in spec.version_fields)
    return business_id, version
