"""Playing scenarios through a driver: the defaults every step's inputs start from, and the verdicts.

A scenario passes when the hospital refuses at the expected step naming the expected requirement, or accepts
every step up to its last one when it expects acceptance. It fails otherwise (the report says what was expected
and what came), and is not applicable when the driver raises NotApplicable.

Then what the platform holds is checked (`Scenario.platform`): every record the scenario names must arrive with
its key fields, within PLATFORM_WAIT seconds (the hospital's connector delivers asynchronously); a record
expected absent must not be there once the present ones have arrived. A missing or wrong record fails the
scenario with the expected and the received fields.
"""

from __future__ import annotations

import copy
import json
import os
import time
from dataclasses import asdict, dataclass
from typing import Any

from hospital.conformance.drivers import OPTIONAL_STEPS, STEPS, Driver, NotApplicable, Outcome
from hospital.conformance.scenarios import Receipt, Scenario

__all__ = ["DEFAULTS", "PLATFORM_WAIT", "Result", "check_platform", "inputs_for", "play", "play_all"]

# HOSPITAL_CONFORMANCE_PLATFORM_CHECKS=off plays the journeys only (`hospital conformance prove` sets it: a rule's
# proof is its refusal, and waiting for every delivery would triple the proof's time).
# How long a record may take to reach the platform (the connector's round and its ordering waits); override
# with HOSPITAL_CONFORMANCE_PLATFORM_WAIT for a slow platform.
PLATFORM_WAIT = float(os.environ.get("HOSPITAL_CONFORMANCE_PLATFORM_WAIT", "30"))
_POLL = 0.2

# What a step is given when the scenario says nothing: one ordinary follow-up visit for hypertension.
DEFAULTS: dict[str, dict[str, Any]] = {
    "record_licence": {"flaw": "malformed_number"},
    "open_department": {"flaw": "no_senior_physicians"},
    "record_incident": {"kind": "bulk_access", "severity": "high", "leak": "suspected", "personal_information": True,
                        "summary": "一个医师账号在一小时内读取了 60 位患者的病历，均非其接诊患者", "detected_minutes_ago": 10,
                        "affected_subjects": 60},
    "admit_staff": {"kind": "doctor", "clinical_years": 5, "credentials": "complete", "biometric_consent": True,
                    "photo": "enrolled_doctor"},
    "read_disclosure": {"shows": ["licence", "departments", "clinicians", "service_hours", "service_modes",
                                  "reply_time_limits", "prices", "complaints", "dispute_procedure"]},
    "intrude": {"who": "other_patient"},
    "complete": {"record": "full"},
    "feedback": {"rating": None, "complaint": None, "adverse_event": None},
    "register_patient": {"real_name": "测试患者", "age_years": 45, "id_number": None, "phone": None, "consent": True,
                         "guardian": None},
    "file_diagnosis": {"file": True, "icd10": "I10", "name": "原发性高血压", "institution": "示范市第一人民医院",
                       "institution_kind": "physical", "registration_number": None,
                       "document_type": "outpatient_record", "diagnosed_days_ago": 60, "document": "pdf"},
    "book": {"department": "03.04", "mode": "video", "prior": "filed", "guardian": None, "allergies": "none_known",
             "twice": False},
    "verify_face": {"face": "own"},
    "accept": {"document_opened": True, "revisit_confirmed": True, "name_resolution": None},
    "start": {"guardian_present_confirmed": True},
    "write_prescription": {"diagnoses": [["I10", "原发性高血压"]],
                           "items": [{"drug_code": "C08CA01-tab-5mg", "dose_per_time": "5", "times_per_day": 1,
                                      "days_supply": 7, "quantity_packs": 1, "usage": "口服，每日早晨"}],
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
        told = f"accepted through {scenario.until}"
    else:
        told = f"refused at {scenario.at} naming {scenario.rule or 'any rule or none (a role refusal)'}"
    if scenario.platform:
        told += "; the platform holds " + "; ".join(r.describe() for r in scenario.platform)
    return told


def _value(expected: Any, ids: dict[str, str]) -> Any:
    if isinstance(expected, str) and expected.startswith("$"):
        return ids.get(expected[1:], expected)
    return expected


def _mismatch(receipt: Receipt, record: dict[str, Any], ids: dict[str, str]) -> list[str]:
    wrong = []
    for key, expected in receipt.fields.items():
        got = record.get(key)
        if expected == "*":
            if got in (None, "", [], {}):
                wrong.append(f"{key} empty")
        elif str(got) != str(_value(expected, ids)):
            wrong.append(f"{key}={json.dumps(got, ensure_ascii=False)[:80]} (expected {_value(expected, ids)})")
    return wrong


def check_platform(driver: Driver, scenario: Scenario, wait: float | None = None) -> str | None:
    """None when the platform holds what the scenario says (and nothing it must not); else what is wrong.
    Raises NotApplicable when the driver cannot see the platform."""
    deadline = time.monotonic() + (PLATFORM_WAIT if wait is None else wait)
    ids = driver.scenario_ids()
    for receipt in [r for r in scenario.platform if not r.absent]:
        while True:
            versions = driver.received(receipt.method, receipt.of)
            wrong = _mismatch(receipt, versions[-1]["record"], ids) if versions else ["nothing received"]
            if not wrong:
                break
            if time.monotonic() > deadline:
                return f"the platform holds no {receipt.describe()}: {'; '.join(wrong)}"
            time.sleep(_POLL)
    for receipt in [r for r in scenario.platform if r.absent]:
        versions = driver.received(receipt.method, receipt.of)
        if versions:
            return f"the platform holds {receipt.method} of the {receipt.of}, which it must not: " + \
                json.dumps(versions[-1]["record"], ensure_ascii=False)[:300]
    return None


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
        got = f"accepted through {scenario.until}"
        for step in STEPS[:last + 1]:
            if step in OPTIONAL_STEPS and step not in scenario.given and step != scenario.until:
                continue
            outcome: Outcome = getattr(driver, step)(inputs_for(scenario, step))
            if not outcome.accepted:
                refused_as_expected = (scenario.verdict == "refused" and step == scenario.at
                                       and (scenario.rule is None or outcome.rule == scenario.rule))
                if not refused_as_expected:
                    return result("failed", _got(step, outcome))
                got = _got(step, outcome)
                break
        else:
            if scenario.verdict != "accepted":
                return result("failed", got)
        if scenario.platform and os.environ.get("HOSPITAL_CONFORMANCE_PLATFORM_CHECKS", "on") != "off":
            wrong = check_platform(driver, scenario)
            if wrong:
                return result("failed", f"{got}; but {wrong}")
            got += "; the platform holds what it must"
    except NotApplicable as why:
        return result("not applicable", str(why))
    except Exception as crash:  # a driver or transport error: the scenario fails, the run goes on
        return result("failed", f"error: {crash!r}")
    return result("passed", got)


def play_all(driver: Driver, scenarios: list[Scenario]) -> list[Result]:
    try:
        return [play(driver, s) for s in scenarios]
    finally:
        driver.close()
