"""A clinician's signing device, as an API client or a test holds it (RX-05, 电子签名法 第十三条). Pure.

The hospital never sees this key. The browser does the same with WebCrypto (a non-extractable ECDSA P-256 key in
IndexedDB, static/js/signing-device.js); scripts, vendors' clients, the tests and the conformance driver use
`DeviceKey`:

    key = DeviceKey.generate()
    nonce = GET /api/me/signing-devices/nonce                       -> {"nonce": ...}
    POST /api/me/signing-devices {"name", "public_key": key.public_key_b64(), "nonce", "proof": key.prove(nonce)}
                                                                    -> {"device_id", "certificate_chain_pem"}
    a signing endpoint answers 428 with `payload_b64` and `signing_request`;
    the client sends the same body again with {"device_id", "signing_request", "jws": key.sign(payload_b64, chain)}

Both signatures are ECDSA P-256 over SHA-256 with the raw r||s encoding WebCrypto produces; the JWS header is the
one `jws.Signer` writes (alg ES256, kid = the certificate's SHA-256, typ JOSE, x5c leaf first).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from hospital.core.errors import InvalidInput
from hospital.signing.canonical import canonical_json
from hospital.signing.jws import ALGORITHM, TOKEN_TYPE, _b64url, _der_to_raw
from hospital.signing.pem import certificate_from_pem, fingerprint_sha256

__all__ = ["DeviceKey", "jws_header_segment", "public_key_from_b64", "verify_possession"]

_ECDSA = ec.ECDSA(hashes.SHA256())


class DeviceKey:
    """An EC P-256 key that stays with its holder: it proves possession and signs prepared payloads."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise InvalidInput("a signing device key is EC P-256 (ES256)")
        self._key = private_key

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: bytes, password: bytes | None = None) -> DeviceKey:
        key = serialization.load_pem_private_key(pem, password=password)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise InvalidInput("not an EC private key")
        return cls(key)

    def to_pem(self, password: bytes | None = None) -> bytes:
        """For the holder's own file (the CLI); encrypted when a password is given."""
        encryption = (serialization.BestAvailableEncryption(password) if password
                      else serialization.NoEncryption())
        return self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)

    def public_key_b64(self) -> str:
        """SubjectPublicKeyInfo DER, base64: what WebCrypto's exportKey("spki") gives."""
        der = self._key.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(der).decode("ascii")

    def prove(self, nonce: str) -> str:
        """Proof of possession: base64url raw r||s over the nonce's ASCII bytes."""
        return _b64url(_der_to_raw(self._key.sign(nonce.encode("ascii"), _ECDSA))).decode("ascii")

    def sign(self, payload_b64: str, chain_pem: Sequence[str]) -> str:
        """A compact JWS over the payload exactly as the server prepared it (base64url of its canonical bytes)."""
        header = jws_header_segment([certificate_from_pem(pem) for pem in chain_pem])
        signing_input = f"{header}.{payload_b64}".encode("ascii")
        signature = _b64url(_der_to_raw(self._key.sign(signing_input, _ECDSA))).decode("ascii")
        return f"{signing_input.decode('ascii')}.{signature}"


def jws_header_segment(chain: Sequence[x509.Certificate]) -> str:
    """The protected header `jws.Signer` writes for this chain, base64url (also served to the browser)."""
    header = {"alg": ALGORITHM, "kid": fingerprint_sha256(chain[0]), "typ": TOKEN_TYPE,
              "x5c": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in chain]}
    return _b64url(canonical_json(header)).decode("ascii")


def public_key_from_b64(text: str) -> ec.EllipticCurvePublicKey:
    """A device's SPKI public key; only EC P-256 is accepted."""
    try:
        key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("public_key is base64 SubjectPublicKeyInfo DER of an EC P-256 key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidInput("a signing device key is EC P-256 (ES256)")
    return key


def verify_possession(public_key: ec.EllipticCurvePublicKey, nonce: str, proof: str) -> bool:
    """True when `proof` is the raw r||s signature of the nonce by the key's private half."""
    try:
        raw = base64.urlsafe_b64decode(proof + "=" * (-len(proof) % 4))
    except (ValueError, TypeError):
        return False
    if len(raw) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public_key.verify(der, nonce.encode("ascii"), _ECDSA)
    except InvalidSignature:
        return False
    return True
