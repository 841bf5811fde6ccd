"""Wire schemas of the signing area (RX-05, RX-06): a device's nonce, a signing device as its owner and the
administrators see it, the published clinician keys (JWKS) and the report of a prescription bundle's check."""

from __future__ import annotations

import msgspec

__all__ = ["BundleCheck", "CheckProblem", "DeviceNonce", "Jwk", "Jwks", "SignerView", "SigningDevice"]


class DeviceNonce(msgspec.Struct, kw_only=True):
    nonce: str  # sealed to the caller; the device signs it to prove it holds the key
    expires_at: str  # ISO 8601 with offset


class SigningDevice(msgspec.Struct, kw_only=True):
    device_id: str
    name: str | None  # None for the server-held keys migration 0020 revoked
    role: str
    staff_id: str
    certificate_serial: str
    fingerprint: str
    not_before: str  # ISO 8601 with offset
    not_after: str
    status: str  # active | revoked
    revoked_at: str | None
    revocation_reason: str | None
    # the chain a client puts in x5c (device, CA); absent from a revocation's answer
    certificate_chain_pem: list[str] | msgspec.UnsetType = msgspec.UNSET


class Jwk(msgspec.Struct, kw_only=True):
    """One clinician's public signing key (RFC 7517/7518, EC P-256); `kid` is the one the JWS headers name."""

    kty: str  # EC
    crv: str  # P-256
    x: str
    y: str
    kid: str  # the leaf certificate's SHA-256 fingerprint
    use: str  # sig
    alg: str  # ES256
    x5c: list[str]  # the chain, leaf first, base64 DER
    x5t_s256: str = msgspec.field(name="x5t#S256")


class Jwks(msgspec.Struct, kw_only=True):
    """`/.well-known/jwks.json`: every unrevoked clinician key valid now."""

    keys: list[Jwk]


class SignerView(msgspec.Struct, kw_only=True):
    """What a signer's certificate says about them."""

    name: str
    staff_id: str
    role: str
    hospital: str
    certificate_serial: str  # hexadecimal
    fingerprint: str


class CheckProblem(msgspec.Struct, kw_only=True):
    code: str  # stable, for machines
    message: str


class BundleCheck(msgspec.Struct, kw_only=True):
    """`POST /api/rx/verify`: the report of `hospital rx verify` over an export bundle, against this hospital's CA
    and current revocation list (RX-05, RX-06). `ok` only when there is no problem; warnings do not fail it."""

    ok: bool
    checked_at: str  # ISO 8601 with offset
    prescription_number: str | None
    decision: str | None  # the pharmacist's review decision
    prescriber: SignerView | None
    reviewer: SignerView | None
    ca_fingerprint: str | None  # the CA the bundle names
    timestamped_at: dict[str, str]  # who → the time their time-stamp token proves
    problems: list[CheckProblem]
    warnings: list[CheckProblem]
    trusted_ca_fingerprint: str  # this hospital's CA, the one checked against
