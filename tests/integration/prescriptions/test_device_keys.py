"""Only the clinician can sign (issue 19, RX-05, 电子签名法 第十三条): the key is on the clinician's device.

The hospital certifies a device's public key after a fresh face verification and a proof of possession, and
then only verifies: the JWS must cover the payload it prepared byte for byte, under the certificate of the
clinician's own named device, unrevoked. The tests hold the device keys (tests/signing.py), as a browser's
IndexedDB would.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, select

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.prescriptions.models import Prescription, PrescriptionReview
from hospital.signing.device import DeviceKey
from hospital.signing.models import ClinicianCredential
from hospital.visits.booking.models import Visit
from tests.conftest import FakeClock
from tests.helpers import count_rows, login_as
from tests.integration.prescriptions.conftest import biden_capture, photo, rx_body, signing_doctor, verified
from tests.integration.prescriptions.helpers import approved, dispense, review
from tests.signing import DEVICE_KEYS, register_device, sign_prepared, signing_device

pytestmark = pytest.mark.requirement("RX-05", "FACE-03")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


async def first_trip(client: AsyncTestClient[Any], doctor: dict[str, str], visit: Visit,
                     device_id: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The dry run, then the first signing trip: (path, body, the 428 problem with the payload)."""
    path = f"/api/visits/{visit.id}/prescriptions"
    checked = await client.post(f"{path}/check", headers=doctor, json=rx_body())
    assert checked.status_code == 200, checked.text
    body = {**rx_body(), "draft_sha256": checked.json()["draft_sha256"], "signature": {"device_id": device_id}}
    prepared = await client.post(path, headers=doctor, json=body)
    assert prepared.status_code == 428, prepared.text
    assert prepared.json()["rule_id"] == "RX-05"
    return path, body, prepared.json()


async def _doctor_first_trip(client: AsyncTestClient[Any], visit: Visit
                             ) -> tuple[dict[str, str], str, tuple[str, dict[str, Any], dict[str, Any]]]:
    """A signing doctor with a registered device, and their first trip on `visit` (as `first_trip` answers it)."""
    doctor = await signing_doctor(client)
    device_id = await signing_device(client, doctor)
    assert device_id is not None
    return doctor, device_id, await first_trip(client, doctor, visit, device_id)


async def _refused_as_rx05(client: AsyncTestClient[Any], doctor: dict[str, str], path: str, body: dict[str, Any],
                           signature: dict[str, Any]) -> None:
    """The signing trip with this `signature` object is refused by RX-05 (422), nothing written."""
    refused = await client.post(path, headers=doctor, json={**body, "signature": signature})
    assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-05", refused.text


async def test_after_a_full_journey_no_column_and_no_file_holds_a_clinicians_private_key(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, visit: Visit
) -> None:
    rx, pharmacist = await approved(client, visit)
    assert (await dispense(client, pharmacist, rx)).status_code == 201
    assert (await client.get(f"/api/prescriptions/{rx['prescription_id']}/export", headers=pharmacist)).status_code == 200
    devices = (await session.execute(select(ClinicianCredential))).scalars().all()
    assert {d.role for d in devices} == {"doctor", "pharmacist"}
    secrets = []
    for device in devices:
        key, _ = DEVICE_KEYS[str(device.id)]
        number = serialization.load_pem_private_key(key.to_pem(), None).private_numbers().private_value  # type: ignore[union-attr]
        raw = number.to_bytes(32, "big")
        secrets += [raw, raw.hex().encode(), base64.b64encode(raw), _b64url(raw).encode(), str(number).encode()]
    # Every column of every table, as stored: no clinician key, in any encoding, and no PEM private key except the
    # hospital's own CA and TSA (signing_authority.private_key_pem).
    pem_holders = []
    for table in SQLModel.metadata.sorted_tables:
        for row in (await session.execute(sa.select(table))).mappings():
            for column, value in row.items():
                stored = value if isinstance(value, bytes) else json.dumps(value, default=str).encode()
                assert not any(s in stored for s in secrets), f"{table.name}.{column} holds a clinician's key"
                if b"PRIVATE KEY" in stored:
                    pem_holders.append(f"{table.name}.{column}")
    assert set(pem_holders) == {"signing_authority.private_key_pem"}
    assert all(row.public_key_sha256 for row in devices)
    # Every file the hospital wrote (blobs, recordings, the SQLite database itself).
    for path in ctx.settings.data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not any(s in content for s in secrets), f"{path} holds a clinician's key"
    await session.rollback()


async def test_a_jws_over_a_payload_one_byte_off_the_checked_draft_is_refused(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    doctor, device_id, (path, body, problem) = await _doctor_first_trip(client, visit)
    payload = base64.urlsafe_b64decode(problem["payload_b64"] + "==")
    assert json.loads(payload) == problem["payload"] and problem["payload"]["draft_sha256"] == body["draft_sha256"]
    one_byte_off = payload.replace(b'"days_supply":7', b'"days_supply":8')
    assert len(one_byte_off) == len(payload) and sum(a != b for a, b in zip(payload, one_byte_off, strict=True)) == 1
    key, chain = DEVICE_KEYS[device_id]
    before = await count_rows(session, Prescription)
    forged = {**problem, "payload_b64": _b64url(one_byte_off)}
    await _refused_as_rx05(client, doctor, path, body, sign_prepared(forged))
    assert await count_rows(session, Prescription) == before
    # The exact bytes are accepted, and the stored document is what the device signed.
    signed = await client.post(path, headers=doctor, json={**body, "signature": sign_prepared(problem)})
    assert signed.status_code == 201, signed.text
    assert signed.json()["document"] == problem["payload"]
    assert key.sign(problem["payload_b64"], chain).split(".")[1] == problem["payload_b64"]


async def test_a_revoked_device_cannot_sign_and_the_crl_lists_it(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    doctor, device_id, (path, body, problem) = await _doctor_first_trip(client, visit)
    revoked = await client.post(f"/api/me/signing-devices/{device_id}/revocation", headers=doctor,
                                json={"reason": "key_compromise", "note": "手机丢失"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked", revoked.text
    await _refused_as_rx05(client, doctor, path, body, sign_prepared(problem))
    assert await count_rows(session, Prescription) == {"prescription": 0}
    serial = revoked.json()["certificate_serial"]
    crl = x509.load_pem_x509_crl((await client.get("/.well-known/hospital-crl.pem")).text.encode())
    entry = crl.get_revoked_certificate_by_serial_number(int(serial, 16))
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.key_compromise
    audited = (await session.execute(select(AuditEntry).where(AuditEntry.action == "signing.credential_revoked")))
    assert len(audited.scalars().all()) == 1
    await session.rollback()
    # An administrator revokes a clinician's other device; the clinician's own list shows both revoked.
    second = await register_device(client, doctor, name="诊室电脑")
    assert second.status_code == 201, second.text
    admin = await login_as(client, "admin")
    staff_id = second.json()["staff_id"]
    by_admin = await client.post(f"/api/staff/{staff_id}/signing-devices/{second.json()['device_id']}/revocation",
                                 headers=admin, json={"reason": "cessation_of_operation"})
    assert by_admin.status_code == 200, by_admin.text
    listed = (await client.get(f"/api/staff/{staff_id}/signing-devices", headers=admin)).json()
    assert [d["status"] for d in listed] == ["revoked", "revoked"]
    assert (await client.post(f"/api/staff/{staff_id}/signing-devices/{device_id}/revocation", headers=doctor,
                              json={})).status_code == 403


async def test_a_jws_made_with_another_clinicians_device_is_refused(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    doctor = await signing_doctor(client)
    doctor_device = await signing_device(client, doctor)
    pharmacist = await verified(client, await login_as(client, "pharmacist"), biden_capture())
    pharmacist_device = await signing_device(client, pharmacist)
    assert doctor_device is not None and pharmacist_device is not None
    path, body, problem = await first_trip(client, doctor, visit, doctor_device)
    # The pharmacist's device signs the doctor's prepared bytes, the doctor's device named.
    pkey, pchain = DEVICE_KEYS[pharmacist_device]
    foreign = {**sign_prepared(problem), "jws": pkey.sign(problem["payload_b64"], pchain)}
    await _refused_as_rx05(client, doctor, path, body, foreign)
    # The doctor names the pharmacist's device: not one of theirs.
    await _refused_as_rx05(client, doctor, path, body, {"device_id": pharmacist_device})
    # A key nobody certified, with the doctor's certificate in x5c: the signature does not verify.
    _, dchain = DEVICE_KEYS[doctor_device]
    unknown = {**sign_prepared(problem), "jws": DeviceKey.generate().sign(problem["payload_b64"], dchain)}
    await _refused_as_rx05(client, doctor, path, body, unknown)
    assert await count_rows(session, Prescription) == {"prescription": 0}
    # The doctor's own device signs; the pharmacist's review is signed over the doctor's JWS itself.
    signed = await client.post(path, headers=doctor, json={**body, "signature": sign_prepared(problem)})
    assert signed.status_code == 201, signed.text
    reviewed = await review(client, pharmacist, signed.json(), "approve")
    assert reviewed.status_code == 200, reviewed.text
    stored = (await session.execute(select(PrescriptionReview))).scalars().one()
    assert str(stored.pharmacist_credential_id) == pharmacist_device
    bundle = (await client.get(f"/api/prescriptions/{signed.json()['prescription_id']}/export",
                               headers=pharmacist)).json()
    review_payload = json.loads(base64.urlsafe_b64decode(bundle["review_jws"].split(".")[1] + "=="))
    assert review_payload["prescription_jws"] == bundle["prescription_jws"]
    assert (await client.post("/api/rx/verify", json=bundle)).json()["ok"] is True
    await session.rollback()


async def test_registering_a_device_needs_a_fresh_face_and_a_proof_over_the_hospitals_nonce(
    client: AsyncTestClient[Any], session: AsyncSession, clock: FakeClock, demo: None
) -> None:
    doctor = await verified(client, await login_as(client, "doctor"), photo("obama2.jpg"))
    key = DeviceKey.generate()
    nonce = (await client.post("/api/me/signing-devices/nonce", headers=doctor)).json()["nonce"]
    other = DeviceKey.generate()
    attempts = {
        "a proof by another key": {"public_key": key.public_key_b64(), "nonce": nonce, "proof": other.prove(nonce)},
        "a nonce the hospital never issued": {"public_key": key.public_key_b64(), "nonce": _b64url(b"x" * 60),
                                              "proof": key.prove(_b64url(b"x" * 60))},
    }
    pharmacist = await login_as(client, "pharmacist")
    before = await count_rows(session, ClinicianCredential, AuditEntry)
    for what, fields in attempts.items():
        refused = await client.post("/api/me/signing-devices/", headers=doctor, json={"name": "phone", **fields})
        assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-05", (what, refused.text)
    # The pharmacist cannot register with the doctor's nonce (it is sealed to the doctor).
    stolen = await client.post("/api/me/signing-devices/", headers=pharmacist, json={
        "name": "phone", "public_key": key.public_key_b64(), "nonce": nonce, "proof": key.prove(nonce)})
    assert stolen.status_code in (403, 422), stolen.text
    assert await count_rows(session, ClinicianCredential, AuditEntry) == before
    clock.advance(minutes=6)  # FACE-03: the signing window is 5 minutes
    nonce = (await client.post("/api/me/signing-devices/nonce", headers=doctor)).json()["nonce"]
    stale = await client.post("/api/me/signing-devices/", headers=doctor, json={
        "name": "phone", "public_key": key.public_key_b64(), "nonce": nonce, "proof": key.prove(nonce)})
    assert stale.status_code == 403 and stale.json()["rule_id"] == "FACE-03", stale.text
    fresh = await verified(client, await login_as(client, "doctor"), photo("obama2.jpg"))
    registered = await register_device(client, fresh, key=key)
    assert registered.status_code == 201, registered.text
    certificate = x509.load_pem_x509_certificate(registered.json()["certificate_chain_pem"][0].encode())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == [
        f"urn:hospital:signing-device:{registered.json()['device_id']}"]
    again = await register_device(client, fresh, key=key)
    assert again.status_code == 409, again.text
