"""The reference driver's administrator acts beside the patient's journey, over the hospital's HTTP API: recording
the licence again with a flaw (INS-01), opening a department (INS-02), admitting a clinician who then consents
and verifies their face (STAFF-01…03, FACE-01), reading the public disclosure (INS-01, INS-03) and recording a
security incident (SEC-02). Kept apart from http.py, which plays the journey itself; `HttpDriver`'s methods of
the same names call these.

Neither opening a department nor recording an incident changes the hospital under test for later scenarios when
the hospital refuses as it must: a department opened without its PD 8(二) evidence stays closed, and an incident
refused is not recorded. An incident accepted stays in the register (an administrator closes it), reported to the
platform as a risk warning.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hospital.conformance.drivers import NotApplicable, Outcome
from hospital.conformance.drivers.people import birth_date, resident_id
from hospital.conformance.requirements import shared_dir

if TYPE_CHECKING:
    from hospital.conformance.drivers.http import HttpDriver

__all__ = ["admit_staff", "open_department", "read_disclosure", "record_incident", "record_licence"]

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


def record_licence(driver: HttpDriver, licence: dict[str, Any]) -> Outcome:
    admin = driver._staff("admin", verified=False)
    assert isinstance(admin, dict)
    page = driver._request("GET", "/api/institution/disclosure")
    current = page.json().get("licence") if page.status_code == 200 else None
    if not current:
        raise NotApplicable("the disclosure shows no licence to record again with a flaw")
    body = {key: current[key] for key in ("licence_number", "institution_name", "internet_hospital_name",
                                          "issuer", "valid_from", "valid_until", "service_modes", "address",
                                          "legal_representative") if key in current}
    flaw = licence["flaw"]
    if flaw == "malformed_number":
        body["licence_number"] = "pdy 2026"
    elif flaw == "not_an_internet_hospital":
        body["internet_hospital_name"] = body["institution_name"].replace("互联网医院", "") + "在线诊室"
    elif flaw == "ends_before_it_starts":
        body["valid_until"] = body["valid_from"]
    else:
        raise NotApplicable(f"unknown licence flaw {flaw!r}")
    return driver._outcome(driver._request("POST", "/api/institution/licence", headers=admin, json=body))


def admit_staff(driver: HttpDriver, staff: dict[str, Any]) -> Outcome:
    admin = driver._staff("admin", verified=False)
    assert isinstance(admin, dict)
    kind = staff["kind"]
    qualification, practice = {"doctor": ("physician_qualification", "physician_practice"),
                               "pharmacist": ("pharmacist_qualification", None),
                               "nurse": ("nurse_qualification", "nurse_practice")}[kind]
    expires = (driver._today() - timedelta(days=1) if staff["credentials"] == "expired"
               else driver._today() + timedelta(days=900)).isoformat()
    credentials = []
    if staff["credentials"] != "no_qualification":
        credentials.append({"kind": qualification, "number": f"{driver.rng.randrange(10**9, 10**10)}"})
    if practice and staff["credentials"] != "no_practice":
        credentials.append({"kind": practice, "number": f"{driver.rng.randrange(10**9, 10**10)}",
                            "valid_until": expires})
    suffix = secrets.token_hex(4)
    application = {
        "kind": kind, "username": f"conformance.{suffix}", "initial_password": f"c1{secrets.token_urlsafe(12)}",
        "real_name": "测试医务人员", "id_number": resident_id(birth_date(40, driver._today(), driver.rng), driver.rng),
        "title": {"doctor": "主治医师", "pharmacist": "主管药师", "nurse": "护师"}[kind],
        "clinical_years": staff["clinical_years"], "departments": ["03.04"] if kind == "doctor" else [],
        "credentials": credentials,
        "practice_category": "临床" if kind == "doctor" else "", "practice_scope": "内科专业" if kind == "doctor"
        else "", "practice_institution": "示范市第一人民医院"}
    if staff["photo"] == "enrolled_doctor":  # the demo doctor's face; another photo of it to verify with
        photo, capture = (shared_dir() / "faces" / "obama3.jpg").read_bytes(), driver.doctor_face
    else:  # a face no clinician of the hospital has: one per hospital, as a second admission would be refused
        fresh = [p for p in os.environ.get("HOSPITAL_CONFORMANCE_NEW_CLINICIAN_FACE", "").split(",") if p]
        if not fresh:
            raise NotApplicable("set HOSPITAL_CONFORMANCE_NEW_CLINICIAN_FACE to two photos (comma-separated: "
                                "admission, verification) of a face the hospital has not enrolled")
        photo, capture = Path(fresh[0]).read_bytes(), Path(fresh[-1]).read_bytes()
    response = driver._request("POST", "/api/staff", headers=admin, data={"application": json.dumps(application)},
                             files={"photo": ("photo.jpg", photo, "image/jpeg")})
    if response.status_code != 201:
        return driver._outcome(response)
    # FACE-01: the administrator's admission leaves the enrolment pending; the clinician gives their own
    # separate consent in their own session, and only then does a face verification follow.
    headers = driver._login(application["username"], application["initial_password"])
    if staff["biometric_consent"]:
        text = driver._request("GET", "/api/me/biometric-consent", headers=headers)
        if text.status_code != 200:
            return driver._outcome(text)
        given = driver._request("POST", "/api/me/biometric-consent", headers=headers, json={
            "version": text.json()["version"], "text_sha256": text.json()["text_sha256"]})
        if given.status_code not in (200, 201):
            return driver._outcome(given)
    verified = driver._verify(headers, capture)
    return verified if isinstance(verified, Outcome) else Outcome.ok(status=201)


def read_disclosure(driver: HttpDriver, disclosure: dict[str, Any]) -> Outcome:
    response = driver._request("GET", "/api/institution/disclosure")
    if response.status_code != 200:
        return driver._outcome(response)
    page = response.json()
    missing = [item for item in disclosure["shows"] if not page.get(item)]
    if missing:
        return Outcome.refused("INS-03", f"the disclosure does not show {', '.join(missing)}", 200)
    return Outcome.ok(status=200)
