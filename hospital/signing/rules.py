"""When a clinician may sign (RX-05). Pure: the credential's and the signature's facts in, RuleViolation out.

Every signing act (prescription, countersignature, review, dispensing, EMR sign-off) reaches these through
`hospital.signing.device_signing.require_device_signature`."""

from __future__ import annotations

import uuid
from datetime import datetime

from hospital.core.errors import RuleViolation
from hospital.core.rule_registry import rule

__all__ = ["check_own_device", "check_signed_bytes", "check_signing_credential"]


@rule("RX-05", "A clinician signs only with their own certificate, unrevoked and valid at the moment of signing",
      source="PD 17 (电子签名); 电子签名法 第十三条 (签署时电子签名制作数据仅由电子签名人控制)")
def check_signing_credential(valid_from: datetime | None, valid_until: datetime | None, now: datetime) -> None:
    """`valid_from`/`valid_until` of the clinician's active certificate, or None when they hold none."""
    if valid_from is None or valid_until is None:
        raise RuleViolation("RX-05", "you hold no valid signing certificate; an administrator issues one")
    if not valid_from <= now <= valid_until:
        raise RuleViolation("RX-05", f"your signing certificate is valid {valid_from.isoformat()} to "
                                     f"{valid_until.isoformat()}; an administrator renews it")


@rule("RX-05", "A device signature covers the payload the server prepared, byte for byte",
      source="PD 17 (电子签名); 电子签名法 第十三条 (签署后对数据电文内容和形式的任何改动能够被发现)")
def check_signed_bytes(jws: str, prepared_payload_b64: str) -> None:
    """`jws` is the compact JWS the device sent; `prepared_payload_b64` the base64url of the canonical payload the
    server rebuilt from the checked draft. Any other bytes (one changed dose, re-encoded JSON) are refused."""
    parts = jws.split(".")
    if len(parts) != 3 or parts[1] != prepared_payload_b64:
        raise RuleViolation("RX-05", "the signature does not cover the prepared payload byte for byte")


@rule("RX-05", "A clinician signs only with an active signing device of their own, and the signature is that device's",
      source="PD 17 (电子签名); 电子签名法 第十三条 (签署时电子签名制作数据仅由电子签名人控制)")
def check_own_device(device_user_id: uuid.UUID | None, device_revoked: bool, signer_user_id: uuid.UUID,
                     signature_fingerprint: str | None = None, device_fingerprint: str | None = None) -> None:
    """`device_user_id`: the owner of the device the client names (None: no such device). Once the signature is
    verified, `signature_fingerprint` (its certificate's) must be `device_fingerprint` (the named device's)."""
    if device_user_id is None or device_user_id != signer_user_id or device_revoked:
        raise RuleViolation("RX-05", "this is not one of your active signing devices")
    if signature_fingerprint is not None and signature_fingerprint != device_fingerprint:
        raise RuleViolation("RX-05", "the signature was not made with the named device of yours")
