"""The reference driver's prescription acts, over the hospital's HTTP API: the doctor's dry run and signature
(RX-07), the pharmacist's review (RX-06), dispensing (RX-08) and the offline verification of the export, once as
exported and once tampered with (RX-05). `HttpDriver` calls these; the device signing they use is http.py's.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from hospital.conformance.drivers import NotApplicable, Outcome

if TYPE_CHECKING:
    from hospital.conformance.drivers.http import HttpDriver

__all__ = ["dispense", "review", "verify_export", "write_prescription"]


def write_prescription(driver: HttpDriver, prescription: dict[str, Any]) -> Outcome:
    """The doctor's two steps (RX-07): the dry run returns the findings and the draft's hash, and signing names
    that hash for the very same draft."""
    draft: dict[str, Any] = {
        "diagnoses": [{"icd10": code, "name": name} for code, name in prescription["diagnoses"]],
        "items": [dict(item) for item in prescription["items"]],  # as the scenario writes them, 用法 too (RX-03)
        "validity_days": prescription["validity_days"]}
    for key in ("long_prescription_reason", "long_prescription_code"):
        if prescription[key]:
            draft[key] = prescription[key]
    path = f"/api/visits/{driver.state['visit']}/prescriptions"
    body = dict(draft)
    if prescription["origin"] != "clinician":  # a machine's draft, with a hash of its own; no doctor checked it
        body["draft_sha256"] = hashlib.sha256(json.dumps(draft, sort_keys=True).encode()).hexdigest()
    elif prescription["signature_confirmed"]:
        checked = driver._request("POST", f"{path}/check", headers=driver.state["doctor"], json=draft)
        if checked.status_code != 200:
            return driver._outcome(checked)
        body["draft_sha256"] = checked.json()["draft_sha256"]  # signed even with findings: the rules refuse
    response = driver._signed_post(path, driver.state["doctor"], body)
    if response.status_code == 201:
        written = response.json()
        driver.state["rx"] = driver.state["prescription"] = str(written["prescription_id"])
        driver.state["findings"] = written.get("findings") or []
    return driver._outcome(response)


def review(driver: HttpDriver, review: dict[str, Any]) -> Outcome:
    if review["skip"]:
        return Outcome.ok("no review")
    if review["by"] == "prescriber":
        headers: dict[str, str] | Outcome = driver.state["doctor"]
    else:
        headers = driver._staff("pharmacist", verified=review["face"] == "own")
    if isinstance(headers, Outcome):
        return headers
    driver.state["pharmacist"] = headers
    body: dict[str, Any] = {"decision": review["decision"], "reasons": review["reasons"],
                            "reason_codes": review["reason_codes"]}
    if review["decision"] == "approve" and review["acknowledge"] == "each":  # each warning answered, coded
        body["acknowledgements"] = [{"finding": index, "reason": review["acknowledgement_reason"]}
                                    for index, finding in enumerate(driver.state.get("findings", []))
                                    if finding.get("severity") == "warn"]
    response = driver._signed_post(f"/api/prescriptions/{driver.state['rx']}/review", headers, body)
    return driver._outcome(response)


def dispense(driver: HttpDriver, dispense: dict[str, Any]) -> Outcome:
    headers = driver.state.get("pharmacist") or driver._staff("pharmacist", verified=True)
    if isinstance(headers, Outcome):
        return headers
    body = {"courier_kind": dispense["courier_kind"], "courier_name": dispense["courier_name"]}
    outcome = Outcome.ok()
    for _ in range(2 if dispense["twice"] else 1):
        response = driver._request("POST", f"/api/prescriptions/{driver.state['rx']}/dispensing", headers=headers,
                                 json=body)
        outcome = driver._outcome(response)
        if not outcome.accepted:
            return outcome
    return outcome


def verify_export(driver: HttpDriver, export: dict[str, Any]) -> Outcome:
    bundle = driver._request("GET", f"/api/prescriptions/{driver.state['rx']}/export", headers=driver.state["doctor"])
    if bundle.status_code != 200:
        return driver._outcome(bundle)
    document = bundle.json()
    tamper = export["tamper"]
    if tamper == "dose":
        document["prescription"]["items"][0]["dose_per_time"] = "50"
    elif tamper == "signature":
        _flip(document)
    elif tamper != "none":
        raise NotApplicable(f"unknown tampering {tamper!r}")
    report = driver._request("POST", "/api/rx/verify", json=document)
    if report.status_code != 200:
        return driver._outcome(report)
    verdict = report.json()
    if verdict.get("ok"):
        return Outcome.ok()
    codes = ", ".join(str(p.get("code")) for p in verdict.get("problems", []))
    return Outcome.refused("RX-05", f"the export does not verify: {codes}", 200)


def _flip(document: dict[str, Any]) -> None:
    """Change one character in the middle of the first compact JWS's signature found in the bundle (top level
    or one level down)."""
    for holder in (document, *(v for v in document.values() if isinstance(v, dict))):
        for key, value in holder.items():
            if isinstance(value, str) and value.count(".") == 2 and len(value) > 100:
                head, payload, signature = value.split(".")
                middle = len(signature) // 2
                flipped = "A" if signature[middle] != "A" else "B"
                holder[key] = f"{head}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1:]}"
                return
    raise NotApplicable("the export carries no compact JWS to tamper with")
