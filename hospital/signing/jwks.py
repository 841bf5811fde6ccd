"""The JWKS document served at `/.well-known/jwks.json`: clinicians' signing keys with their chains (RX-05)."""

from __future__ import annotations

import base64
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hospital.core.errors import InvalidInput
from hospital.signing.jws import ALGORITHM
from hospital.signing.pem import fingerprint_sha256

__all__ = ["jwk_for_chain", "jwks_document"]


def jwk_for_chain(cert_chain: Sequence[x509.Certificate]) -> dict[str, Any]:
    """One public JWK (RFC 7517/7518) for the chain's leaf; `kid` is the same as in the JWS headers."""
    leaf = cert_chain[0]
    public_key = leaf.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, ec.SECP256R1):
        raise InvalidInput("only EC P-256 signing keys are published")
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
        "kid": fingerprint_sha256(leaf),
        "use": "sig",
        "alg": ALGORITHM,
        "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii") for cert in cert_chain],
        "x5t#S256": _b64url(leaf.fingerprint(hashes.SHA256())),
    }


def jwks_document(
    cert_chains: Iterable[Sequence[x509.Certificate]],
    *,
    at: datetime | None = None,
    revoked_serials: Collection[int] = (),
) -> dict[str, Any]:
    """`{"keys": [...]}` for the given chains, leaving out revoked ones and, given `at`, those not valid then."""
    keys = []
    for chain in cert_chains:
        leaf = chain[0]
        if leaf.serial_number in revoked_serials:
            continue
        if at is not None and not leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc:
            continue
        keys.append(jwk_for_chain(chain))
    return {"keys": keys}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
