from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric import ec

from hospital.signing.ca import CertificateAuthority
from hospital.signing.jwks import jwks_document
from hospital.signing.pem import fingerprint_sha256

from .conftest import NOW, Clinician


def _int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def test_jwks_publishes_each_signing_key_with_its_kid_and_chain(
    ca: CertificateAuthority, doctor: Clinician, pharmacist: Clinician
) -> None:
    document = jwks_document([doctor.chain, pharmacist.chain])
    key = document["keys"][0]
    expected = {fingerprint_sha256(doctor.certificate), fingerprint_sha256(pharmacist.certificate)}
    assert {k["kid"] for k in document["keys"]} == expected
    assert (key["kty"], key["crv"], key["use"], key["alg"]) == ("EC", "P-256", "sig", "ES256")
    assert "d" not in key
    public_key = doctor.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    numbers = public_key.public_numbers()
    assert (_int(key["x"]), _int(key["y"])) == (numbers.x, numbers.y)
    assert len(key["x5c"]) == 2


def test_jwks_leaves_out_revoked_and_expired_keys(doctor: Clinician, pharmacist: Clinician) -> None:
    document = jwks_document([doctor.chain, pharmacist.chain], revoked_serials={doctor.certificate.serial_number})
    assert [k["kid"] for k in document["keys"]] == [fingerprint_sha256(pharmacist.certificate)]
    assert jwks_document([doctor.chain], at=NOW.replace(year=2040)) == {"keys": []}
