"""The regulator's cases as data: one JSON file per scenario in this package (installed with `hospital`).

Each names its requirement and clause (as ../shared/REQUIREMENTS.md words it), a title, what is given in the
domain's terms (the patient, the prior diagnosis, the booking, the doctor's face, the prescription, the review,
the dispensing: see hospital/conformance/journey.py for every key and its default), how far the journey goes,
and the expected verdict: refused at a step with a requirement ID, or accepted. `reference_rule` names the
reference's rule (module:function) that refuses, for the reference's own proof; a vendor's system has its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

__all__ = ["Scenario", "load_scenarios"]


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


def _scenario(name: str, data: dict[str, Any]) -> Scenario:
    expect = data["expect"]
    return Scenario(name=name, requirement=data["requirement"], clause=data["clause"], title=data["title"],
                    given=data.get("given", {}), until=data.get("until") or expect.get("at") or "dispense",
                    verdict=expect["verdict"], rule=expect.get("rule"), at=expect.get("at"),
                    reference_rule=data.get("reference_rule"), tags=list(data.get("tags", [])))


def load_scenarios() -> list[Scenario]:
    """Every scenario, by name."""
    found: list[Scenario] = []
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            found.append(_scenario(entry.name.removesuffix(".json"), json.loads(entry.read_text(encoding="utf-8"))))
    return found
