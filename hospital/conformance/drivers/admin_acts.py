"""The reference driver's administrator acts beside the patient's journey: opening a department (INS-02) and
recording a security incident (SEC-02), over the hospital's HTTP API. Kept apart from http.py, which plays the
journey itself; `HttpDriver.open_department` and `record_incident` call these.

Neither changes the hospital under test for later scenarios when the hospital refuses as it must: a department
opened without its PD 8(二) evidence stays closed, and an incident refused is not recorded. An incident accepted
stays in the register (an administrator closes it), reported to the platform as a risk warning.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from hospital.conformance.drivers import NotApplicable, Outcome

if TYPE_CHECKING:
    from hospital.conformance.drivers.http import HttpDriver

__all__ = ["open_department", "record_incident"]

# The evidence PD 8(二) asks to open a department, each flaw leaving one thing out (the rule's clauses).
_FULL = {"name": "赵主任", "title": "主任医师", "practice_number": "110310000000201"}
_ASSOCIATE = {"name": "钱副主任", "title": "副主任医师", "practice_number": "110310000000202"}
_FLAWS: dict[str, list[dict[str, str]]] = {
    "no_senior_physicians": [],
    "no_associate_senior": [_FULL],  # a 正高 without the 副高
    "practice_number_malformed": [_FULL, {**_ASSOCIATE, "practice_number": "11031"}],
}


def _catalogue() -> list[tuple[str, str]]:
    """The national catalogue of 诊疗科目 the reference ships (code, name)."""
    text = resources.files("hospital.visits.intake").joinpath("data/departments.csv").read_text(encoding="utf-8")
    return [(row["code"], row["name_zh"]) for row in csv.DictReader(io.StringIO(text))]


def open_department(driver: HttpDriver, department: dict[str, Any]) -> Outcome:
    """The administrator approves a department the licence does not yet carry, with one flaw in its PD 8(二)
    evidence: one on record and not approved (the demo's 04 外科), else one of the catalogue not on record."""
    flaw = department["flaw"]
    if flaw not in _FLAWS:
        raise NotApplicable(f"unknown department flaw {flaw!r}")
    admin = driver._staff("admin", verified=False)
    assert isinstance(admin, dict)
    listed = driver._request("GET", "/api/institution/departments", headers=admin)
    if listed.status_code != 200:
        return driver._outcome(listed)
    on_record = {d["code"]: d for d in listed.json()}
    closed = [(code, d["name"]) for code, d in sorted(on_record.items()) if not d["approved"]]
    candidates = closed or [(code, name) for code, name in _catalogue() if code not in on_record]
    if not candidates:
        raise NotApplicable("every department of the catalogue is approved already: none is left to open")
    code, name = candidates[0]
    response = driver._request("PUT", f"/api/institution/departments/{code}", headers=admin,
                               json={"name": name, "approved": True, "senior_physicians": _FLAWS[flaw]})
    return driver._outcome(response)


def record_incident(driver: HttpDriver, incident: dict[str, Any]) -> Outcome:
    """The security officer (an administrator) records an incident found by a person. Accepted, the incident's id
    is the scenario's `incident`, which the platform's risk warning names."""
    admin = driver._staff("admin", verified=False)
    assert isinstance(admin, dict)
    detected = datetime.now(UTC) - timedelta(minutes=incident["detected_minutes_ago"])
    response = driver._request("POST", "/api/admin/security/incidents", headers=admin, json={
        "kind": incident["kind"], "severity": incident["severity"], "summary": incident["summary"],
        "leak": incident["leak"], "personal_information": incident["personal_information"],
        "detected_at": detected.isoformat(), "affected_subjects": incident["affected_subjects"]})
    if response.status_code in (200, 201):
        driver.state["incident"] = str(response.json()["incident_id"])
    return driver._outcome(response)
