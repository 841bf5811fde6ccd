"""Build hospital/conformance/examples/<format>/ (today hospital-rx-export-2/) from the demo served in-process:
`python -m tests.conformance.examples_build` (from the repository, with HOSPITAL_SHARED_DIR set).

A prescription is written, signed, approved and dispensed through the HTTP API; its export is the valid
example; the broken ones are made from it (a flipped byte of the doctor's signature, an edited dose, a review
signed over another prescription, a certificate revoked for key compromise after signing, checked long after every certificate
expired, checked against another hospital's CA). The verdict `hospital rx verify` gives each is written to
manifest.json beside them: it is the reference's verdict, the arbiter's, and tests/conformance/test_examples.py
checks that the verifier still gives it. Rebuild only when the export format changes (then as a new folder,
named by the export's format: the folders of earlier formats stay as they are and keep verifying).
"""

from __future__ import annotations

import copy
import json
import logging
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hospital.conformance.drivers.http import HttpDriver
from hospital.conformance.journey import inputs_for
from hospital.conformance.scenarios import load_scenarios
from hospital.signing.pem import certificate_from_pem
from hospital.signing.verify_export import verify_export
from tests.conformance.served import served_demo

EXAMPLES = Path(__file__).resolve().parents[2] / "hospital" / "conformance" / "examples"


def _dispensed(driver: HttpDriver) -> dict[str, Any]:
    """Play the ordinary journey through dispensing; the export of its prescription."""
    scenario = next(s for s in load_scenarios() if s.name == "rx-06-approved-then-dispensed")
    driver.begin("examples")
    for step in ("register_patient", "file_diagnosis", "book", "verify_face", "accept", "start", "write_prescription",
                 "review", "dispense"):
        outcome = getattr(driver, step)(inputs_for(scenario, step))
        assert outcome.accepted, (step, outcome)
    response = driver.http.get(f"/api/prescriptions/{driver.state['rx']}/export", headers=driver.state["doctor"])
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def _key_compromised(app: Any, user_id: str) -> None:
    """The doctor's signing key is reported compromised: the CRL revokes it retroactively (a superseded or
    suspended certificate keeps the signatures made before; a compromised one does not)."""
    import uuid

    from cryptography import x509

    from hospital.core.audit import Actor
    from hospital.signing.service import revoke_credentials

    async with app.state.session_factory() as session:
        await revoke_credentials(session, app.state.ctx, Actor.system("examples"), uuid.UUID(user_id),
                                 x509.ReasonFlags.key_compromise, note="the key was reported compromised")
        await session.commit()


def _flip(jws: str) -> str:
    head, payload, signature = jws.split(".")
    middle = len(signature) // 2
    return f"{head}.{payload}.{signature[:middle]}{'A' if signature[middle] != 'A' else 'B'}{signature[middle + 1:]}"


def _verdict(bundle: dict[str, Any], ca_pem: str, at: datetime) -> dict[str, Any]:
    report = verify_export(bundle, trusted_roots=[certificate_from_pem(ca_pem.encode())], at=at)
    return {"ok": report.ok, "problems": sorted({p.code for p in report.problems})}


def build() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with served_demo(Path(tempfile.mkdtemp(prefix="examples-"))) as client:
        driver = HttpDriver("examples", client=client, seed=31)
        valid = _dispensed(driver)
        other = _dispensed(driver)
        admin = driver._login("admin", "admin-demo-2026")
        staff = client.get("/api/staff", headers=admin).json()
        doctor = next(s for s in staff if s["kind"] == "doctor")
        client.blocking_portal.call(_key_compromised, client.app, doctor["user_id"])
        revoked = client.get(f"/api/prescriptions/{driver.state['rx']}/export", headers=driver.state["doctor"]).json()
    with served_demo(Path(tempfile.mkdtemp(prefix="examples-other-"))) as client:
        another_ca = client.get("/.well-known/hospital-ca.pem").text
    ca = valid["ca_certificate_pem"]
    signed_at = datetime.fromisoformat(valid["exported_at"]) + timedelta(minutes=1)
    flipped = copy.deepcopy(valid)
    flipped["prescription_jws"] = _flip(valid["prescription_jws"])
    edited = copy.deepcopy(valid)
    edited["prescription"]["items"][0]["dose_per_time"] = "50"
    untimed = {k: v for k, v in valid.items() if k != "timestamps"}  # the time-stamp tokens left out
    swapped_review = copy.deepcopy(valid)
    swapped_review["review_jws"] = other["review_jws"]
    cases = [
        ("valid.json", valid, "ca.pem", signed_at, "signed by the doctor, approved by the pharmacist: valid"),
        ("flipped-byte.json", flipped, "ca.pem", signed_at, "one character of the doctor's signature changed"),
        ("dose-edited.json", edited, "ca.pem", signed_at, "the first item's dose changed after signing"),
        ("review-over-another.json", swapped_review, "ca.pem", signed_at,
         "the pharmacist's review signed over another prescription"),
        ("revoked-certificate.json", revoked, "ca.pem", datetime.fromisoformat(revoked["exported_at"]),
         "exported after the doctor's signing key was reported compromised (the CRL revokes it)"),
        ("expired.json", untimed, "ca.pem", signed_at + timedelta(days=3650 * 3),
         "checked thirty years on, after every certificate expired, without the time-stamp tokens"),
        ("expired-time-stamped.json", valid, "ca.pem", signed_at + timedelta(days=3650 * 3),
         "checked thirty years on with its RFC 3161 time-stamp tokens: each signature is judged at its token's time"),
        ("wrong-chain.json", valid, "another-hospital-ca.pem", signed_at,
         "checked against another hospital's CA: the chain does not lead to it"),
    ]
    out = EXAMPLES / str(valid["format"]).replace("/", "-")  # hospital-rx-export/2 -> hospital-rx-export-2
    out.mkdir(parents=True, exist_ok=True)
    (out / "ca.pem").write_text(ca)
    (out / "another-hospital-ca.pem").write_text(another_ca)
    manifest = []
    for name, bundle, trust, at, title in cases:
        (out / name).write_text(json.dumps(bundle, ensure_ascii=False, indent=2) + "\n")
        pem = ca if trust == "ca.pem" else another_ca
        manifest.append({"file": name, "title": title, "trust": trust, "at": at.isoformat(),
                         "expected": _verdict(bundle, pem, at)})
    (out / "manifest.json").write_text(json.dumps({"format": valid["format"], "examples": manifest},
                                                  ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    build()
