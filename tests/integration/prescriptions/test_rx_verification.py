"""Verification by third parties (RX-05, RX-06): export bundle, `hospital rx verify`, POST /api/rx/verify,
the published CA, CRL and JWKS; tampering, revocation and a foreign CA all fail."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography import x509
from litestar.testing import AsyncTestClient

from hospital.context import HospitalContext
from hospital.demo import DEMO_USERS
from hospital.signing.ca import ClinicianIdentity, ClinicianRole, create_root_ca, generate_clinician_key
from hospital.signing.cli import rx as rx_cli
from hospital.signing.export import ReviewDecision, build_export_bundle, bundle_to_json, review_payload
from hospital.signing.jws import sign
from hospital.visits.booking.models import Visit
from tests.conftest import FakeClock
from tests.helpers import login_as
from tests.integration.prescriptions.conftest import signing_doctor, write
from tests.integration.prescriptions.helpers import approved, written

pytestmark = pytest.mark.requirement("RX-05", "RX-06")


async def exported(client: AsyncTestClient[Any], rx: dict[str, Any], role: str = "patient") -> Any:
    return await client.get(f"/api/prescriptions/{rx['prescription_id']}/export",
                            headers=await login_as(client, role))


def cli_verify(tmp_path: Path, bundle_bytes: bytes, ca_pem: str, ctx: HospitalContext) -> tuple[int, dict[str, Any]]:
    (tmp_path / "rx.json").write_bytes(bundle_bytes)
    (tmp_path / "ca.pem").write_text(ca_pem)
    result = CliRunner().invoke(rx_cli, ["verify", str(tmp_path / "rx.json"), "--ca", str(tmp_path / "ca.pem"),
                                         "--at", ctx.now().isoformat()])
    return result.exit_code, json.loads(result.output)


def codes(report: dict[str, Any]) -> set[str]:
    return {p["code"] for p in report["problems"]}


async def test_an_exported_approved_prescription_verifies_offline_and_online(
    client: AsyncTestClient[Any], ctx: HospitalContext, visit: Visit, tmp_path: Path
) -> None:
    rx, _ = await approved(client, visit)
    response = await exported(client, rx)
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    bundle = response.json()
    ca_pem = (await client.get("/.well-known/hospital-ca.pem")).text
    exit_code, report = cli_verify(tmp_path, bundle_to_json(bundle), ca_pem, ctx)
    assert exit_code == 0 and report["ok"] is True, report
    assert report["prescriber"]["role"] == "doctor" and report["reviewer"]["role"] == "pharmacist"
    online = (await client.post("/api/rx/verify", json=bundle)).json()  # PUBLIC: no token
    assert online["ok"] is True and online["decision"] == "approve"


@pytest.mark.parametrize("where", ["prescription", "doctor_signature", "review_signature"])
async def test_one_changed_byte_in_an_export_fails_verification(
    client: AsyncTestClient[Any], ctx: HospitalContext, visit: Visit, tmp_path: Path, where: str
) -> None:
    rx, _ = await approved(client, visit)
    bundle = (await exported(client, rx)).json()
    original = bundle_to_json(bundle)
    if where == "prescription":
        at = original.index(b'"days_supply": 7') + len(b'"days_supply": ')
        changed = original[:at] + b"8" + original[at + 1:]
    else:
        token: str = bundle["prescription_jws" if where == "doctor_signature" else "review_jws"]
        at = original.index(token.encode()) + len(token) - 20  # inside the signature segment
        changed = original[:at] + (b"A" if original[at:at + 1] != b"A" else b"B") + original[at + 1:]
    assert sum(a != b for a, b in zip(original, changed, strict=True)) == 1
    ca_pem = (await client.get("/.well-known/hospital-ca.pem")).text
    exit_code, report = cli_verify(tmp_path, changed, ca_pem, ctx)
    assert exit_code == 1 and report["ok"] is False
    expected = {"prescription": "prescription_altered", "doctor_signature": "doctor_bad_signature",
                "review_signature": "reviewer_bad_signature"}[where]
    assert expected in codes(report)
    online = (await client.post("/api/rx/verify", json=json.loads(changed))).json()
    assert online["ok"] is False and expected in codes(online)


async def test_a_suspended_doctors_certificate_is_revoked_but_earlier_signatures_verify_and_it_leaves_the_jwks(
    client: AsyncTestClient[Any], ctx: HospitalContext, clock: FakeClock, visit: Visit, tmp_path: Path
) -> None:
    """Suspension is not forgery (issue 19): revoked for privilege_withdrawn, the certificate signs nothing new
    (test_rx_suspension_is_not_forgery.py), and what it signed before stays valid."""
    rx, _ = await approved(client, visit)
    old_bundle = (await exported(client, rx)).json()
    kid = json.loads(base64.urlsafe_b64decode(rx["doctor_jws"].split(".")[0] + "=="))["kid"]
    assert kid in {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    staff_id = rx["document"]["doctor"]["staff_id"]
    clock.advance(minutes=5)
    suspended = await client.post(f"/api/staff/{staff_id}/suspension", headers=await login_as(client, "admin"),
                                  json={"reason": "执业证书被注销"})
    assert suspended.status_code == 200, suspended.text
    online = (await client.post("/api/rx/verify", json=old_bundle)).json()
    assert online["ok"] is True, online
    new_bundle = (await exported(client, rx)).json()  # carries the CRL issued at the suspension
    crl = x509.load_pem_x509_crl(new_bundle["crl_pem"].encode())
    serial = int(rx["document"]["doctor"]["certificate_serial"], 16)
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert (await client.get("/.well-known/hospital-crl.pem")).text == new_bundle["crl_pem"]
    exit_code, report = cli_verify(tmp_path, bundle_to_json(new_bundle), (await client.get(
        "/.well-known/hospital-ca.pem")).text, ctx)
    assert exit_code == 0 and report["ok"] is True, report
    assert kid not in {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}


async def test_a_prescription_signed_under_another_ca_fails_verification(
    client: AsyncTestClient[Any], ctx: HospitalContext, visit: Visit, tmp_path: Path
) -> None:
    rx, _ = await approved(client, visit)
    genuine = (await exported(client, rx)).json()
    now = ctx.now()
    other = create_root_ca(ctx.settings.hospital_name, now=now - timedelta(minutes=5))  # same name, other key
    chains = {}
    for role, staff_id in ((ClinicianRole.DOCTOR, genuine["prescription"]["doctor"]["staff_id"]),
                           (ClinicianRole.PHARMACIST, "forged-pharmacist")):
        key = generate_clinician_key()
        certificate = other.issue_clinician_certificate(key.public_key(), ClinicianIdentity("王医生", staff_id, role),
                                                        now=now, credential_expires_at=now + timedelta(days=30))
        chains[role] = (key, [certificate, other.certificate])
    document = genuine["prescription"]
    review = review_payload(document, decision=ReviewDecision.APPROVE, reasons=[], pharmacist_name="李药师",
                            pharmacist_staff_id="forged-pharmacist", reviewed_at=now,
                            prescription_number=document["prescription_number"])
    forged = build_export_bundle(
        prescription=document, prescription_jws=sign(document, *chains[ClinicianRole.DOCTOR]),
        review_jws=sign(review, *chains[ClinicianRole.PHARMACIST]), ca_certificate=other.certificate,
        crl=other.build_crl([], now=now, crl_number=1), exported_at=now)
    online = (await client.post("/api/rx/verify", json=forged)).json()
    assert online["ok"] is False and {"doctor_chain_untrusted", "reviewer_chain_untrusted"} <= codes(online)
    exit_code, report = cli_verify(tmp_path, bundle_to_json(forged), (await client.get(
        "/.well-known/hospital-ca.pem")).text, ctx)
    assert exit_code == 1 and "doctor_chain_untrusted" in codes(report)


async def test_a_suspended_doctor_signs_nothing_and_reinstatement_brings_a_new_certificate(
    client: AsyncTestClient[Any], visit: Visit
) -> None:
    first = await written(client, visit)
    in_session = await signing_doctor(client)
    admin = await login_as(client, "admin")
    staff_id = first["document"]["doctor"]["staff_id"]
    assert (await client.post(f"/api/staff/{staff_id}/suspension", headers=admin,
                              json={"reason": "暂停执业"})).status_code == 200
    refused = await write(client, in_session, visit)  # the suspension ended the session (SEC-01)
    assert refused.status_code == 401 and refused.json()["rule_id"] == "SEC-01"
    doctor = next(u for u in DEMO_USERS if u.role == "doctor")
    again_in = await client.post("/api/auth/login", json={"username": doctor.username, "password": doctor.password})
    assert again_in.status_code == 403 and again_in.json()["rule_id"] == "STAFF-03"
    assert (await client.delete(f"/api/staff/{staff_id}/suspension", headers=admin)).status_code == 200
    again = await write(client, await signing_doctor(client), visit)
    assert again.status_code == 201, again.text
    serials = {first["document"]["doctor"]["certificate_serial"], again.json()["document"]["doctor"]["certificate_serial"]}
    assert len(serials) == 2


async def test_a_prescription_not_yet_reviewed_is_not_exported(client: AsyncTestClient[Any], visit: Visit) -> None:
    rx = await written(client, visit)
    refused = await exported(client, rx)
    assert refused.status_code == 409 and refused.json()["current_state"] == "pending_review"
    assert (await exported(client, rx, "admin")).status_code == 403


async def test_the_verification_endpoint_explains_a_bundle_that_is_not_one(client: AsyncTestClient[Any],
                                                                          demo: None) -> None:
    report = (await client.post("/api/rx/verify", json={"format": "something else"})).json()
    assert report["ok"] is False and codes(report) == {"bundle_format"}
