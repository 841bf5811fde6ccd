"""Playing scenarios through a driver: the defaults every step's inputs start from, and the verdicts.

A scenario passes when the hospital refuses at the expected step naming the expected requirement, or accepts
every step up to its last one when it expects acceptance. It fails otherwise (the report says what was expected
and what came), and is not applicable when the driver raises NotApplicable.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass
from typing import Any

from hospital.conformance.drivers import STEPS, Driver, NotApplicable, Outcome
from hospital.conformance.scenarios import Scenario

__all__ = ["DEFAULTS", "Result", "inputs_for", "play", "play_all"]

# What a step is given when the scenario says nothing: one ordinary follow-up visit for hypertension.
DEFAULTS: dict[str, dict[str, Any]] = {
    "register_patient": {"real_name": "测试患者", "age_years": 45, "id_number": None, "phone": None, "consent": True,
                         "guardian": None},
    "file_diagnosis": {"file": True, "icd10": "I10", "name": "原发性高血压", "institution": "示范市第一人民医院",
                       "institution_kind": "physical", "registration_number": None,
                       "document_type": "outpatient_record", "diagnosed_days_ago": 60, "document": "pdf"},
    "book": {"department": "03.04", "mode": "video", "prior": "filed", "guardian": None, "allergies": "none_known"},
    "verify_face": {"face": "own"},
    "accept": {"document_opened": True, "revisit_confirmed": True, "name_resolution": None},
    "start": {"guardian_present_confirmed": True},
    "write_prescription": {"diagnoses": [["I10", "原发性高血压"]],
                           "items": [{"drug_code": "C08CA01-tab-5mg", "dose_per_time": "5", "times_per_day": 1,
                                      "days_supply": 7, "quantity_packs": 1}],
                           "signature_confirmed": True, "validity_days": 1, "origin": "clinician",
                           "long_prescription_reason": None, "long_prescription_code": None},
    "review": {"skip": False, "by": "pharmacist", "face": "own", "decision": "approve", "reasons": [], "reason_codes": [],
               "acknowledge": "each", "acknowledgement_reason": "label_or_guideline_supported"},
    "dispense": {"courier_kind": "third_party", "courier_name": "顺丰速运", "twice": False},
    "verify_export": {"tamper": "none"},
}


@dataclass(frozen=True, slots=True)
class Result:
    scenario: str
    requirement: str
    title: str
    status: str  # passed | failed | not applicable
    expected: str
    got: str
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def inputs_for(scenario: Scenario, step: str) -> dict[str, Any]:
    given = scenario.given.get(step, {})
    return {**copy.deepcopy(DEFAULTS[step]), **copy.deepcopy(given)}


def _expected(scenario: Scenario) -> str:
    if scenario.verdict == "accepted":
        return f"accepted through {scenario.until}"
    return f"refused at {scenario.at} naming {scenario.rule or 'any rule or none (a role refusal)'}"


def _got(step: str, outcome: Outcome) -> str:
    if outcome.accepted:
        return f"accepted at {step}"
    status = f" ({outcome.status})" if outcome.status else ""
    return f"refused at {step} naming {outcome.rule or 'no rule'}{status}: {outcome.detail[:300]}"


def play(driver: Driver, scenario: Scenario) -> Result:
    started = time.monotonic()

    def result(status: str, got: str) -> Result:
        return Result(scenario.name, scenario.requirement, scenario.title, status, _expected(scenario), got,
                      round(time.monotonic() - started, 3))

    last = STEPS.index(scenario.until)
    try:
        driver.begin(scenario.name)
        for step in STEPS[:last + 1]:
            outcome: Outcome = getattr(driver, step)(inputs_for(scenario, step))
            if not outcome.accepted:
                refused_as_expected = (scenario.verdict == "refused" and step == scenario.at
                                       and (scenario.rule is None or outcome.rule == scenario.rule))
                return result("passed" if refused_as_expected else "failed", _got(step, outcome))
    except NotApplicable as why:
        return result("not applicable", str(why))
    except Exception as crash:  # a driver or transport error: the scenario fails, the run goes on
        return result("failed", f"error: {crash!r}")
    if scenario.verdict == "accepted":
        return result("passed", f"accepted through {scenario.until}")
    return result("failed", f"accepted through {scenario.until}")


def play_all(driver: Driver, scenarios: list[Scenario]) -> list[Result]:
    try:
        return [play(driver, s) for s in scenarios]
    finally:
        driver.close()
