"""The device-key helper and its CLI (RX-05): what a client holds signs exactly what the hospital prepared, in
the format the hospital's verifier and WebCrypto share (raw r||s ECDSA, ES256 compact JWS with x5c)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from click.testing import CliRunner

from hospital.signing.ca import ClinicianIdentity, ClinicianRole, create_root_ca
from hospital.signing.canonical import canonical_json
from hospital.signing.cli import device_key
from hospital.signing.device import DeviceKey, public_key_from_b64, verify_possession
from hospital.signing.errors import SignatureInvalid
from hospital.signing.jws import SignatureVerifier
from hospital.signing.pem import certificate_to_pem
from tests.unit.signing.conftest import NOW, SOON

pytestmark = pytest.mark.requirement("RX-05")

PAYLOAD = {"prescription_number": "RX20250301-0001", "draft_sha256": "ab" * 32, "items": [{"days_supply": 7}]}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def test_a_device_key_proves_possession_and_signs_the_prepared_bytes_under_its_certificate() -> None:
    ca = create_root_ca("示范互联网医院", now=NOW)
    key = DeviceKey.generate()
    public = public_key_from_b64(key.public_key_b64())
    assert verify_possession(public, "nonce-1", key.prove("nonce-1"))
    assert not verify_possession(public, "nonce-2", key.prove("nonce-1"))
    assert not verify_possession(public, "nonce-1", DeviceKey.generate().prove("nonce-1"))
    certificate = ca.issue_clinician_certificate(public, ClinicianIdentity("王医生", "D-1", ClinicianRole.DOCTOR),
                                                 now=NOW, credential_expires_at=SOON, device_id="dev-1")
    chain = [certificate_to_pem(certificate), certificate_to_pem(ca.certificate)]
    payload_b64 = _b64url(canonical_json(PAYLOAD))
    token = key.sign(payload_b64, chain)
    verified = SignatureVerifier([ca.certificate]).verify(token, crl_or_revoked_serials=None, at=NOW)
    assert verified.payload == PAYLOAD and verified.signer.name == "王医生"
    with pytest.raises(SignatureInvalid):  # another key under this certificate
        SignatureVerifier([ca.certificate]).verify(DeviceKey.generate().sign(payload_b64, chain),
                                                   crl_or_revoked_serials=None, at=NOW)


def test_the_cli_makes_a_key_proves_and_signs(tmp_path: Path) -> None:
    runner = CliRunner()
    key_file = tmp_path / "device.pem"
    made = runner.invoke(device_key, ["new", str(key_file)])
    assert made.exit_code == 0, made.output
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert runner.invoke(device_key, ["new", str(key_file)]).exit_code != 0  # never overwritten
    public = public_key_from_b64(made.output.strip())
    proof = runner.invoke(device_key, ["prove", str(key_file), "n-1"]).output.strip()
    assert verify_possession(public, "n-1", proof)
    ca = create_root_ca("示范互联网医院", now=NOW)
    certificate = ca.issue_clinician_certificate(public, ClinicianIdentity("李药师", "P-1", ClinicianRole.PHARMACIST),
                                                 now=NOW, credential_expires_at=SOON)
    (tmp_path / "chain.pem").write_text(certificate_to_pem(certificate) + certificate_to_pem(ca.certificate))
    signed = runner.invoke(device_key, ["sign", str(key_file), str(tmp_path / "chain.pem"),
                                        _b64url(canonical_json(PAYLOAD))])
    assert signed.exit_code == 0, signed.output
    verified = SignatureVerifier([ca.certificate]).verify(signed.output.strip(), crl_or_revoked_serials=None, at=NOW)
    assert verified.payload == PAYLOAD and verified.signer.role == "pharmacist"
