"""Signing on the clinician's device (RX-05): the server prepares, the device signs, the server only verifies.

Signing is two round trips through the same endpoint (`require_device_signature`): the first answers 428 with
the canonical payload the server prepared and a sealed signing request; the device signs exactly those bytes as
a compact JWS (ES256, x5c) and the client resends; the server then only verifies: the payload byte for byte
(`rules.check_signed_bytes`), a certificate of this clinician's named device, unrevoked and valid
(`rules.check_own_device`, `rules.check_signing_credential`), and time-stamps it (RFC 3161). Everything here
adds to the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.errors import Conflict, RuleViolation, ServiceUnavailable, SignatureRequired
from hospital.signing.authority import hospital_signing, timestamps_of
from hospital.signing.canonical import canonical_json
from hospital.signing.credentials import _b64url, _b64url_decode, _open_sealed, verify_signature
from hospital.signing.device import jws_header_segment
from hospital.signing.errors import SignatureInvalid
from hospital.signing.models import ClinicianCredential, SignatureTimestamp
from hospital.signing.pem import certificate_from_pem
from hospital.signing.rules import check_own_device, check_signed_bytes, check_signing_credential
from hospital.signing.timestamps import TimestampInvalid, token_time

__all__ = [
    "SIGNING_REQUEST_VALID_FOR",
    "AcceptedSignature",
    "DeviceSignature",
    "device_serial",
    "requested_payload",
    "require_device_signature",
    "timestamp_tokens",
]


@dataclass(frozen=True, slots=True)
class DeviceSignature:
    """What the client sends with a signing act: the device it signs with; on the second trip, the sealed signing
    request of the first and the JWS over its payload."""

    device_id: uuid.UUID | None = None
    signing_request: str | None = None
    jws: str | None = None


@dataclass(frozen=True, slots=True)
class AcceptedSignature:
    """A verified device signature over the prepared payload: the JWS, the device's credential, the payload."""

    jws: str
    credential: ClinicianCredential
    payload: dict[str, Any]


SIGNING_REQUEST_VALID_FOR = timedelta(minutes=10)


def requested_payload(ctx: HospitalContext, user_id: uuid.UUID, act: str,
                      signature: DeviceSignature) -> dict[str, Any] | None:
    """The payload prepared on the first trip, when this is the second: its server-chosen values (time, number)
    are reused to rebuild it, so that the device's bytes can be compared with a fresh build."""
    if signature.signing_request is None:
        return None
    opened = _open_sealed(ctx, signature.signing_request, f"signing.request:{user_id}:{act}", "signing request")
    payload = json.loads(_b64url_decode(str(opened["payload_b64"])))
    return payload if isinstance(payload, dict) else None


async def _signing_device(session: AsyncSession, user_id: uuid.UUID,
                          signature: DeviceSignature) -> ClinicianCredential:
    if signature.device_id is None:
        raise RuleViolation("RX-05", "name your signing device (device_id); register one at "
                                     "POST /api/me/signing-devices after a fresh face verification")
    credential = await session.get(ClinicianCredential, signature.device_id)
    check_own_device(credential.user_id if credential else None,
                     credential is not None and credential.revoked_at is not None, user_id)
    assert credential is not None  # check_own_device refuses a device that does not exist
    return credential


async def device_serial(session: AsyncSession, user_id: uuid.UUID, signature: DeviceSignature) -> str:
    """The certificate serial of the device the clinician names, for the payload (RX-05 refuses any other)."""
    return (await _signing_device(session, user_id, signature)).serial


async def require_device_signature(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID, act: str,
                                   payload: dict[str, Any], signature: DeviceSignature) -> AcceptedSignature:
    """RX-05: the clinician's own device signs exactly `payload`; the server only verifies.

    First trip (no `jws`): SignatureRequired (428) with the canonical payload and a sealed signing request naming
    this user, act, device and bytes, valid 10 minutes; nothing is stored. Second trip: the request must be
    this one, `payload` (rebuilt now) must still be its bytes, and the JWS must cover those bytes byte for byte,
    under the certificate of the named device, which must be this clinician's, unrevoked and valid."""
    credential = await _signing_device(session, user_id, signature)
    now = ctx.now()
    check_signing_credential(credential.not_before, credential.not_after, now)
    payload_b64 = _b64url(canonical_json(payload))
    context = f"signing.request:{user_id}:{act}"
    if signature.jws is None or signature.signing_request is None:
        signing = await hospital_signing(session, ctx)
        expires_at = now + SIGNING_REQUEST_VALID_FOR
        sealed = ctx.cipher.seal(json.dumps({"device_id": str(credential.id), "payload_b64": payload_b64,
                                             "expires_at": expires_at.isoformat()}).encode(), context=context)
        raise SignatureRequired(
            "RX-05", "sign the prepared payload on your device and send the same request again with "
                     "device_id, signing_request and jws", signing_request=_b64url(sealed), payload_b64=payload_b64,
            payload=payload, payload_sha256=hashlib.sha256(canonical_json(payload)).hexdigest(),
            jws_header=jws_header_segment([certificate_from_pem(credential.certificate_pem), signing.ca.certificate]),
            device_id=str(credential.id), expires_at=expires_at.isoformat())
    requested = _open_sealed(ctx, signature.signing_request, context, "signing request")
    if requested.get("device_id") != str(credential.id):
        raise RuleViolation("RX-05", "the signing request was prepared for another device")
    if requested.get("payload_b64") != payload_b64:
        raise Conflict("what you are signing changed since the payload was prepared; prepare it again",
                       rule_id="RX-05")
    check_signed_bytes(signature.jws, payload_b64)
    try:
        verified = await verify_signature(session, ctx, signature.jws, at=now)
    except SignatureInvalid as exc:
        raise RuleViolation("RX-05", f"the signature does not verify: {exc.detail}",
                            reason_code=str(exc.reason_code)) from exc
    check_own_device(credential.user_id, credential.revoked_at is not None, user_id,
                     signature_fingerprint=verified.signer.fingerprint, device_fingerprint=credential.fingerprint)
    await _stamp(session, ctx, signature.jws)
    return AcceptedSignature(signature.jws, credential, payload)


async def _stamp(session: AsyncSession, ctx: HospitalContext, jws: str) -> None:
    """The signature's RFC 3161 token, in the caller's transaction (ServiceUnavailable without one)."""
    timestamps = await timestamps_of(session, ctx)
    try:
        token = timestamps.stamp(jws.encode("ascii"))
    except TimestampInvalid as exc:
        raise ServiceUnavailable(f"no trusted time for the signature: {exc}; try again", rule_id="RX-05") from exc
    now = ctx.now()
    session.add(SignatureTimestamp(jws_sha256=_jws_sha256(jws), token=token, gen_time=token_time(token),
                                   source=timestamps.source, created_at=now, updated_at=now))


def _jws_sha256(jws: str) -> str:
    return hashlib.sha256(jws.encode("ascii")).hexdigest()


async def timestamp_tokens(session: AsyncSession, signatures: Mapping[str, str]) -> dict[str, bytes]:
    """The RFC 3161 tokens of named signatures ({"prescription_jws": jws, ...}) for an export; missing ones left out."""
    digests = {name: _jws_sha256(jws) for name, jws in signatures.items()}
    rows = (await session.execute(select(SignatureTimestamp.jws_sha256, SignatureTimestamp.token).where(
        SignatureTimestamp.jws_sha256.in_(list(digests.values()))))).all()  # type: ignore[attr-defined]
    found = {digest: token for digest, token in rows}
    return {name: found[digest] for name, digest in digests.items() if digest in found}
