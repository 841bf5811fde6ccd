"""The regulator's cases as data: one JSON file per scenario in this package (installed with `hospital`).

Each names its requirement and clause (as ../shared/REQUIREMENTS.md words it), a title, what is given in the
domain's terms (the patient, the prior diagnosis, the booking, the doctor's face, the prescription, the review,
the dispensing: see hospital/conformance/journey.py for every key and its default), how far the journey goes,
and the expected verdict: refused at a step with a requirement ID, or accepted. `reference_rule` names the
reference's rule (module:function) that refuses, for the reference's own proof; a vendor's system has its own.

`platform` says what the supervision platform must then hold (SUP-02/03/04): each entry names a method (the
platform's, as the SDK spells it), whose record it is (`of`: the scenario's visit, prescription, patient,
complaint, adverse event or incident), and key fields, where "*" is any non-empty value and "$visit" /
"$prescription" the scenario's own id; `absent` expects no such record (a refused act reports nothing). Some
steps run only when a scenario gives them (drivers.OPTIONAL_STEPS). `unreachable.toml` here lists, with the
reviewed reason, every requirement (or side of one) that no black-box scenario can reach.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

__all__ = ["Receipt", "Scenario", "Unplayed", "load_scenarios", "load_unplayed"]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    requirement: str
    clause: str
    title: str
    given: dict[str, Any]
    until: str
    verdict: str  # refused | accepted
    rule: str | None = None  # the requirement ID a refusal names
    at: str | None = None  # the step that refuses
    reference_rule: str | None = None
    tags: list[str] = field(default_factory=list)
    platform: list[Receipt] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Receipt:
    """A record the supervision platform must hold after the scenario (or, `absent`, must not)."""

    method: str
    of: str  # visit | prescription | patient | complaint | adverse_event | incident: found by the scenario's id in it
    fields: dict[str, Any] = field(default_factory=dict)
    absent: bool = False

    def describe(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in self.fields.items())
        return f"{'no ' if self.absent else ''}{self.method} of the {self.of}" + (f" ({fields})" if fields else "")


def _scenario(name: str, data: dict[str, Any]) -> Scenario:
    expect = data["expect"]
    return Scenario(name=name, requirement=data["requirement"], clause=data["clause"], title=data["title"],
                    given=data.get("given", {}), until=data.get("until") or expect.get("at") or "dispense",
                    verdict=expect["verdict"], rule=expect.get("rule"), at=expect.get("at"),
                    reference_rule=data.get("reference_rule"), tags=list(data.get("tags", [])),
                    platform=[Receipt(r["method"], r["of"], dict(r.get("fields", {})), bool(r.get("absent", False)))
                              for r in data.get("platform", [])])


def load_scenarios() -> list[Scenario]:
    """Every scenario, by name."""
    found: list[Scenario] = []
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            found.append(_scenario(entry.name.removesuffix(".json"), json.loads(entry.read_text(encoding="utf-8"))))
    return found


@dataclass(frozen=True, slots=True)
class Unplayed:
    """A requirement's side no scenario plays, and the reviewed reason (unreachable.toml)."""

    requirement: str
    sides: tuple[str, ...]  # accepted | refused
    kind: str  # black-box | shared-target | not yet written
    reason: str


def load_unplayed() -> dict[str, Unplayed]:
    """unreachable.toml: per requirement, the sides no scenario plays and why."""
    data = tomllib.loads(resources.files(__name__).joinpath("unreachable.toml").read_text(encoding="utf-8"))
    return {rid: Unplayed(rid, tuple(entry["sides"]), entry["kind"], " ".join(entry["reason"].split()))
            for rid, entry in data.items()}
