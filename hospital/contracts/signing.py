"""Wire schemas of the signing area (RX-05): a device's nonce and a signing device as its owner and the
administrators see it."""

from __future__ import annotations

import msgspec

__all__ = ["DeviceNonce", "SigningDevice"]


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
