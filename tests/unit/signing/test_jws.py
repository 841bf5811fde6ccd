from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jose import jws as jose_jws
from jose.backends.cryptography_backend import CryptographyECKey

from hospital.core.errors import InvalidInput
from hospital.signing.ca import CertificateAuthority, ClinicianRole, Revocation, generate_clinician_key
from hospital.signing.canonical import canonical_json
from hospital.signing.errors import ReasonCode, SignatureInvalid
from hospital.signing.jws import SignatureVerifier, Signer, sign, verify

from .conftest import NOW, SOON, Clinician, admit, prescription_payload

pytestmark = pytest.mark.requirement("RX-05")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def refusal(token: str, ca: CertificateAuthority, revoked: Any = None, at: Any = SOON) -> ReasonCode:
    with pytest.raises(SignatureInvalid) as caught:
        verify(token, trusted_roots=[ca.certificate], crl_or_revoked_serials=revoked, at=at)
    return caught.value.reason_code


def forged(header: dict[str, Any], payload: bytes, signature: bytes) -> str:
    head = b64url(json.dumps(header).encode())
    return f"{head}.{b64url(payload)}.{b64url(signature)}"


def test_a_signed_prescription_verifies_and_names_its_doctor(ca: CertificateAuthority, doctor: Clinician) -> None:
    payload = prescription_payload()
    token = sign(payload, doctor.private_key, doctor.chain)
    crl = ca.build_crl([], now=NOW, crl_number=1)
    result = verify(token, trusted_roots=[ca.certificate], crl_or_revoked_serials=crl, at=SOON)
    assert result.payload == payload
    assert result.payload_bytes == canonical_json(payload)
    assert result.signer_certificate == doctor.certificate
    assert (result.signer.name, result.signer.staff_id, result.signer.role) == ("张伟", "D-001", "doctor")


def test_header_carries_es256_the_chain_leaf_first_and_the_thumbprint(doctor: Clinician, ca: CertificateAuthority) -> None:
    header = json.loads(b64url_decode(doctor.signer.sign({"a": 1}).split(".")[0]))
    assert header["alg"] == "ES256" and header["typ"] == "JOSE"
    ders = [base64.b64decode(c) for c in header["x5c"]]
    assert ders == [c.public_bytes(serialization.Encoding.DER) for c in (doctor.certificate, ca.certificate)]
    assert header["kid"] == hashlib.sha256(ders[0]).hexdigest()


def test_the_signed_bytes_are_exactly_the_canonical_json(doctor: Clinician) -> None:
    payload = {"z": "末", "a": [1, 2]}
    assert b64url_decode(doctor.signer.sign(payload).split(".")[1]) == canonical_json(payload)


def test_one_changed_byte_in_the_payload_fails(ca: CertificateAuthority, doctor: Clinician) -> None:
    head, body, signature = doctor.signer.sign(prescription_payload()).split(".")
    tampered = b64url_decode(body).replace(b'"quantity":30', b'"quantity":90')
    assert refusal(f"{head}.{b64url(tampered)}.{signature}", ca) is ReasonCode.BAD_SIGNATURE


def test_one_changed_byte_in_the_signature_fails(ca: CertificateAuthority, doctor: Clinician) -> None:
    head, body, signature = doctor.signer.sign(prescription_payload()).split(".")
    raw = bytearray(b64url_decode(signature))
    raw[10] ^= 0x01
    assert refusal(f"{head}.{body}.{b64url(bytes(raw))}", ca) is ReasonCode.BAD_SIGNATURE


def test_alg_none_is_refused(ca: CertificateAuthority, doctor: Clinician) -> None:
    header = json.loads(b64url_decode(doctor.signer.sign({}).split(".")[0]))
    token = forged({**header, "alg": "none"}, canonical_json(prescription_payload()), b"")
    assert refusal(token, ca) is ReasonCode.BAD_ALGORITHM


def test_hs256_keyed_with_the_public_key_is_refused(ca: CertificateAuthority, doctor: Clinician) -> None:
    header = json.loads(b64url_decode(doctor.signer.sign({}).split(".")[0]))
    public_pem = doctor.certificate.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{b64url(json.dumps({**header, 'alg': 'HS256'}).encode())}.{b64url(b'{}')}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert refusal(f"{signing_input}.{b64url(mac)}", ca) is ReasonCode.BAD_ALGORITHM


def test_a_certificate_from_another_ca_is_untrusted(ca: CertificateAuthority, other_ca: CertificateAuthority) -> None:
    stranger = admit(other_ca, "张伟", "D-001", ClinicianRole.DOCTOR)
    assert refusal(stranger.signer.sign(prescription_payload()), ca) is ReasonCode.CHAIN_UNTRUSTED


def test_a_self_issued_chain_carrying_the_trusted_root_is_untrusted(
    ca: CertificateAuthority, other_ca: CertificateAuthority
) -> None:
    stranger = admit(other_ca, "张伟", "D-001", ClinicianRole.DOCTOR)
    token = Signer(stranger.private_key, [stranger.certificate, ca.certificate]).sign({"a": 1})
    assert refusal(token, ca) is ReasonCode.CHAIN_UNTRUSTED


def test_a_revoked_certificate_fails_by_crl_and_by_serial(ca: CertificateAuthority) -> None:
    clinician = admit(ca, "周医生", "D-010", ClinicianRole.DOCTOR)
    token = clinician.signer.sign(prescription_payload())
    crl = ca.build_crl([Revocation(clinician.certificate.serial_number, NOW)], now=NOW, crl_number=2)
    assert refusal(token, ca, revoked=crl) is ReasonCode.CERTIFICATE_REVOKED
    assert refusal(token, ca, revoked={clinician.certificate.serial_number}) is ReasonCode.CERTIFICATE_REVOKED


def test_a_revocation_after_the_signing_time_does_not_void_the_signature(ca: CertificateAuthority) -> None:
    clinician = admit(ca, "吴医生", "D-011", ClinicianRole.DOCTOR)
    token = clinician.signer.sign({"a": 1})
    later = [Revocation(clinician.certificate.serial_number, SOON + timedelta(days=1), x509.ReasonFlags.superseded)]
    crl = ca.build_crl(later, now=SOON + timedelta(days=1), crl_number=3)
    assert verify(token, trusted_roots=[ca.certificate], crl_or_revoked_serials=crl, at=SOON).payload == {"a": 1}
    compromised = [Revocation(clinician.certificate.serial_number, SOON + timedelta(days=1), x509.ReasonFlags.key_compromise)]
    crl = ca.build_crl(compromised, now=SOON + timedelta(days=1), crl_number=4)
    assert refusal(token, ca, revoked=crl) is ReasonCode.CERTIFICATE_REVOKED


def test_a_crl_from_another_ca_is_refused(ca: CertificateAuthority, other_ca: CertificateAuthority, doctor: Clinician) -> None:
    crl = other_ca.build_crl([], now=NOW, crl_number=1)
    assert refusal(doctor.signer.sign({"a": 1}), ca, revoked=crl) is ReasonCode.CRL_INVALID


def test_an_expired_certificate_fails(ca: CertificateAuthority) -> None:
    short = admit(ca, "郑医生", "D-012", ClinicianRole.DOCTOR, credential_expires_at=NOW + timedelta(days=2))
    token = short.signer.sign({"a": 1})
    assert refusal(token, ca, at=NOW + timedelta(days=3)) is ReasonCode.CERTIFICATE_EXPIRED
    assert refusal(token, ca, at=NOW - timedelta(minutes=1)) is ReasonCode.CERTIFICATE_NOT_YET_VALID


def test_a_signed_but_non_canonical_payload_is_refused(ca: CertificateAuthority, doctor: Clinician) -> None:
    token = jose_jws.sign(
        b'{"b":1, "a":2}',
        CryptographyECKey(doctor.private_key, "ES256"),
        headers={"x5c": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in doctor.chain]},
        algorithm="ES256",
    )
    assert refusal(token, ca) is ReasonCode.PAYLOAD_NOT_CANONICAL


def test_python_jose_accepts_our_tokens_and_we_accept_its_tokens(ca: CertificateAuthority, doctor: Clinician) -> None:
    payload = prescription_payload()
    ours = doctor.signer.sign(payload)
    public = CryptographyECKey(doctor.certificate.public_key(), "ES256")
    assert jose_jws.verify(ours, public, algorithms=["ES256"]) == canonical_json(payload)
    x5c = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in doctor.chain]
    private = CryptographyECKey(doctor.private_key, "ES256")
    theirs = jose_jws.sign(canonical_json(payload), private, headers={"x5c": x5c}, algorithm="ES256")
    assert verify(theirs, trusted_roots=[ca.certificate], crl_or_revoked_serials=None, at=SOON).payload == payload


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.e30.AA", "e30.e30.AA"])
def test_malformed_tokens_are_refused_as_malformed(ca: CertificateAuthority, token: str) -> None:
    assert refusal(token, ca) in {ReasonCode.MALFORMED, ReasonCode.BAD_ALGORITHM}


def test_a_kid_that_does_not_name_the_leaf_is_malformed(ca: CertificateAuthority, doctor: Clinician) -> None:
    head, body, signature = doctor.signer.sign({"a": 1}).split(".")
    header = json.loads(b64url_decode(head))
    token = forged({**header, "kid": "0" * 64}, b64url_decode(body), b64url_decode(signature))
    assert refusal(token, ca) is ReasonCode.MALFORMED


def test_a_detached_payload_verifies_against_the_given_bytes(ca: CertificateAuthority, doctor: Clinician) -> None:
    head, _, signature = doctor.signer.sign({"a": 1}).split(".")
    verifier = SignatureVerifier([ca.certificate])
    detached = f"{head}..{signature}"
    assert verifier.verify(detached, crl_or_revoked_serials=None, at=SOON, detached_payload=b'{"a":1}').payload == {"a": 1}
    with pytest.raises(SignatureInvalid):
        verifier.verify(detached, crl_or_revoked_serials=None, at=SOON, detached_payload=b'{"a":2}')


def test_a_verifier_keeps_refusing_after_caching_a_header(ca: CertificateAuthority, other_ca: CertificateAuthority) -> None:
    stranger = admit(other_ca, "x", "X-1", ClinicianRole.DOCTOR)
    verifier = SignatureVerifier([ca.certificate])
    token = stranger.signer.sign({"a": 1})
    for _ in range(2):
        with pytest.raises(SignatureInvalid) as caught:
            verifier.verify(token, crl_or_revoked_serials=None, at=SOON)
        assert caught.value.reason_code is ReasonCode.CHAIN_UNTRUSTED


def test_a_signer_refuses_a_key_that_is_not_the_certificates(doctor: Clinician) -> None:
    with pytest.raises(InvalidInput, match="does not belong"):
        Signer(generate_clinician_key(), doctor.chain)


def test_a_ca_certificate_cannot_sign_documents(ca: CertificateAuthority) -> None:
    with pytest.raises(InvalidInput, match="digital signatures"):
        Signer(ca.private_key, [ca.certificate])


@pytest.mark.parametrize(
    ("r", "s"), [(1, 2), (2**255 + 7, 2**256 - 189), (2**200, 2**255 - 1), (2**256 - 1, 1)]
)
def test_der_signatures_become_32_byte_r_and_s(r: int, s: int) -> None:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    from hospital.signing.jws import _der_to_raw

    assert _der_to_raw(encode_dss_signature(r, s)) == r.to_bytes(32, "big") + s.to_bytes(32, "big")


@pytest.mark.parametrize(
    "change",
    [
        lambda header: {**header, "crit": ["exp"]},
        lambda header: {**header, "b64": False},
    ],
)
def test_critical_header_extensions_are_refused(ca: CertificateAuthority, doctor: Clinician, change: Any) -> None:
    head, body, signature = doctor.signer.sign({"a": 1}).split(".")
    token = forged(change(json.loads(b64url_decode(head))), b64url_decode(body), b64url_decode(signature))
    assert refusal(token, ca) is ReasonCode.MALFORMED


def test_a_header_with_a_duplicate_parameter_is_refused(ca: CertificateAuthority, doctor: Clinician) -> None:
    head, body, signature = doctor.signer.sign({"a": 1}).split(".")
    text = b64url_decode(head).decode()
    duplicated = text[:-1] + ',"alg":"none"}'
    assert refusal(f"{b64url(duplicated.encode())}.{body}.{signature}", ca) is ReasonCode.MALFORMED


def test_padding_or_stray_characters_in_base64url_are_refused(ca: CertificateAuthority, doctor: Clinician) -> None:
    head, body, signature = doctor.signer.sign({"a": 1}).split(".")
    assert refusal(f"{head}.{body}=.{signature}", ca) is ReasonCode.MALFORMED
    assert refusal(f"{head}.{body}.{signature[:10]}+{signature[11:]}", ca) is ReasonCode.MALFORMED
