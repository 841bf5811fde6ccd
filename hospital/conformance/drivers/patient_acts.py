"""The reference driver's patient acts, over the hospital's HTTP API: registering and consenting (a minor through
the guardian), filing the prior diagnosis a revisit rests on, booking, stating allergies, rating, complaining and
reporting an adverse event, and another patient trying to read the visit (SEC-02). `HttpDriver` calls these;
http.py keeps the plumbing (log-in, face verification, device signing) and the clinicians' steps of the visit.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hospital.conformance.drivers import Outcome
from hospital.conformance.drivers.people import birth_date, record_pdf, registration_number, resident_id

if TYPE_CHECKING:
    from hospital.conformance.drivers.http import HttpDriver

__all__ = ["book", "feedback", "file_diagnosis", "intrude", "register_patient"]


def _guardian(driver: HttpDriver, guardian: dict[str, Any]) -> dict[str, str]:
    """The guardian as the hospital is told of them: one person (one ID number) per name within a scenario."""
    name = guardian.get("name", "监护人")
    people: dict[str, str] = driver.state.setdefault("guardians", {})
    if name not in people:
        people[name] = resident_id(birth_date(guardian.get("age_years", 35), driver._today(), driver.rng), driver.rng)
    return {"name": name, "relationship": guardian.get("relationship", "parent"), "id_number": people[name]}


def register_patient(driver: HttpDriver, patient: dict[str, Any]) -> Outcome:
    today = driver._today()
    birth = birth_date(patient["age_years"], today, driver.rng)
    driver.state["birth"] = birth
    id_number = patient["id_number"] or resident_id(birth, driver.rng)
    driver.state["patient"] = id_number
    phone = patient["phone"] or f"139{driver.rng.randrange(10**7, 10**8)}"
    password = f"s1{secrets.token_urlsafe(18)}"  # SEC-01: letters and digits; fresh per run, never a known one
    response = driver._request("POST", "/api/patients", json={
        "real_name": patient["real_name"], "id_number": id_number, "phone": phone, "password": password})
    if response.status_code != 201:
        return driver._outcome(response)
    driver.state["patient_headers"] = headers = driver._login(phone, password)
    if patient["consent"]:
        version = driver._request("GET", "/api/consent").json()["version"]
        body: dict[str, Any] = {"version": version}
        if patient["guardian"]:  # a minor's consent is the guardian's
            body["guardian"] = _guardian(driver, patient["guardian"])
        accepted = driver._request("POST", "/api/consent/acceptances", headers=headers, json=body)
        if accepted.status_code != 201:
            return driver._outcome(accepted)
    return Outcome.ok()


def file_diagnosis(driver: HttpDriver, diagnosis: dict[str, Any]) -> Outcome:
    if not diagnosis["file"]:
        return Outcome.ok("nothing filed")
    days_ago = diagnosis["diagnosed_days_ago"]
    diagnosed_on = (driver.state["birth"] - timedelta(days=30) if days_ago == "before_birth"
                    else driver._today() - timedelta(days=days_ago))
    form = {"icd10_code": diagnosis["icd10"], "diagnosis_name": diagnosis["name"],
            "document_type": diagnosis["document_type"], "institution_name": diagnosis["institution"],
            "institution_kind": diagnosis["institution_kind"],
            "institution_registration_number": diagnosis["registration_number"] or registration_number(driver.rng),
            "diagnosed_on": diagnosed_on.isoformat()}
    files = {"document": ("record.pdf", record_pdf(), "application/pdf")} if diagnosis["document"] == "pdf" else None
    response = driver._request("POST", "/api/prior-diagnoses", headers=driver.state["patient_headers"], data=form,
                             files=files)
    if response.status_code == 201:
        driver.state["prior"] = str(response.json()["prior_diagnosis_id"])
    return driver._outcome(response)


def book(driver: HttpDriver, booking: dict[str, Any]) -> Outcome:
    schedule = driver._schedule(booking["department"], booking["mode"])
    if isinstance(schedule, Outcome):
        return schedule
    body: dict[str, Any] = {"schedule_id": schedule, "mode": booking["mode"],
                            "prior_diagnosis_id": driver.state.get("prior") if booking["prior"] == "filed" else None,
                            # the page shows the published fee and the patient accepts it (INS-03)
                            "fee_cny": driver._fees.get((booking["department"], booking["mode"]), ""),
                            "fee_accepted": True}
    guardian = booking["guardian"]
    if guardian:
        body["guardian"] = {**_guardian(driver, guardian), "present_confirmed": guardian.get("present_confirmed", True)}
    response = driver._request("POST", "/api/visits", headers=driver.state["patient_headers"], json=body)
    if response.status_code != 201:
        return driver._outcome(response)
    driver.state["visit"] = str(response.json()["visit_id"])
    if booking.get("twice"):  # the same slot again while the first booking stands (REV-06)
        again = driver._request("POST", "/api/visits", headers=driver.state["patient_headers"], json=body)
        if again.status_code != 201:
            return driver._outcome(again)
    allergies = booking["allergies"]
    if allergies is None:  # the patient states nothing: nothing may be prescribed (RX-04)
        return Outcome.ok(status=201)
    statement: dict[str, Any] = ({"allergy_status": "no_known_allergies"} if allergies == "none_known" else
                                 {"allergy_status": "allergies", "allergies": list(allergies)})
    stated = driver._request("PUT", "/api/me/safety-context", headers=driver.state["patient_headers"],
                           json={**statement, "visit_id": driver.state["visit"]})
    return driver._outcome(stated)


def intrude(driver: HttpDriver, intrusion: dict[str, Any]) -> Outcome:
    if intrusion["who"] == "own_patient":
        headers = driver.state["patient_headers"]
    else:  # another real patient of the same hospital
        phone, password = f"138{driver.rng.randrange(10**7, 10**8)}", f"s1{secrets.token_urlsafe(18)}"
        registered = driver._request("POST", "/api/patients", json={
            "real_name": "另一患者", "id_number": resident_id(birth_date(30, driver._today(), driver.rng), driver.rng),
            "phone": phone, "password": password})
        if registered.status_code != 201:
            raise RuntimeError(f"could not register a second patient: {registered.text[:300]}")
        headers = driver._login(phone, password)
    response = driver._request("GET", f"/api/visits/{driver.state['visit']}", headers=headers)
    return driver._outcome(response)


def feedback(driver: HttpDriver, feedback: dict[str, Any]) -> Outcome:
    patient, visit = driver.state["patient_headers"], driver.state["visit"]
    if feedback["rating"] is not None:
        rated = driver._request("POST", f"/api/visits/{visit}/rating", headers=patient,
                              json={"score": feedback["rating"], "comment": ""})
        if rated.status_code != 201:
            return driver._outcome(rated)
    if feedback["complaint"] is not None:
        filed = driver._request("POST", "/api/complaints", headers=patient,
                              json={**feedback["complaint"], "visit_id": visit})
        if filed.status_code != 201:
            return driver._outcome(filed)
        driver.state["complaint"] = str(filed.json()["complaint_id"])
    event = feedback["adverse_event"]
    if event is not None:
        body = {"kind": event["kind"], "severity": event["severity"], "description": event["description"],
                "occurred_on": (driver._today() - timedelta(days=event["occurred_days_ago"])).isoformat(),
                "visit_id": visit, "drug_code": event.get("drug_code")}
        reported = driver._request("POST", "/api/adverse-events", headers=patient, json=body)
        if reported.status_code != 201:
            return driver._outcome(reported)
        driver.state["adverse_event"] = str(reported.json()["adverse_event_id"])
    return Outcome.ok()
