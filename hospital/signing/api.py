"""What a pharmacy or the regulator needs to check signatures (RX-05, RX-06), and certificate renewal.

PUBLIC: `/.well-known/jwks.json` (clinicians' keys), `/.well-known/hospital-ca.pem` (the root to trust),
`/.well-known/hospital-crl.pem` (revocations), and `POST /api/rx/verify`, the same check as `hospital rx verify`.
A clinician's signing devices: `/api/me/signing-devices`; an administrator's view and revocation under /api/staff.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.prescription_views import ExportBundleSubmitted
from hospital.contracts.signing import BundleCheck, DeviceNonce, Jwks, SigningDevice
from hospital.core.errors import PayloadTooLarge, UnsupportedMediaType
from hospital.identity.guards import principal_of, requires_admin, requires_role
from hospital.identity.models import Role
from hospital.signing import service
from hospital.signing.timestamps import TIMESTAMP_QUERY, TIMESTAMP_REPLY
from hospital.web.http import PUBLIC, RAW_BODY, actor_of

__all__ = [
    "DeviceSignatureBody",
    "SignatureVerificationController",
    "SigningAdminController",
    "SigningDeviceController",
    "TimeStampingController",
    "WellKnownController",
    "device_signature",
]

PEM_CERTIFICATE = "application/x-pem-file"
PEM_CRL = "application/pkix-crl"  # PEM-armoured here, so browsers and `openssl crl` both read it


class WellKnownController(Controller):
    path = "/.well-known"
    tags = ["signatures"]
    opt = PUBLIC

    @get("/jwks.json", summary="Every active clinician signing key with its certificate chain (RX-05)")
    async def jwks(self, db_session: AsyncSession, ctx: HospitalContext) -> Jwks:
        return msgspec.convert(await service.jwks(db_session, ctx), Jwks)

    @get("/hospital-ca.pem", summary="The hospital CA certificate: the root a verifier trusts",
         media_type=PEM_CERTIFICATE)
    async def ca_certificate(self, db_session: AsyncSession, ctx: HospitalContext) -> Response[str]:
        signing = await service.hospital_signing(db_session, ctx)
        return Response(signing.certificate_pem, media_type=PEM_CERTIFICATE,
                        headers={"X-Certificate-SHA256": signing.fingerprint})

    @get("/hospital-crl.pem", summary="The hospital CA's current certificate revocation list", media_type=PEM_CRL)
    async def crl(self, db_session: AsyncSession, ctx: HospitalContext) -> Response[str]:
        return Response(await service.published_crl(db_session, ctx), media_type=PEM_CRL)


class SignatureVerificationController(Controller):
    path = "/api/rx"
    tags = ["signatures"]
    opt = PUBLIC

    @post("/verify", status_code=200,
          summary="Verify a prescription export bundle: payload, both signatures, chain, revocation, review (RX-05/06)",
          description="The body is the bundle from GET /api/prescriptions/{id}/export, unchanged. The answer is the "
                      "report of `hospital rx verify`: `ok`, and each problem with a stable `code` and a message. "
                      "Checked against this hospital's CA and its current revocation list (not the bundle's), at "
                      "`at` (ISO 8601, default now).")
    async def verify(self, db_session: AsyncSession, ctx: HospitalContext, data: ExportBundleSubmitted,
                     at: datetime | None = None) -> BundleCheck:
        # The verifier reads a mapping, as `hospital rx verify` reads the file: the fields sent, none invented.
        report = await service.verify_bundle(db_session, ctx, msgspec.to_builtins(data), at)
        signing = await service.hospital_signing(db_session, ctx)
        return msgspec.convert({**report.as_dict(), "trusted_ca_fingerprint": signing.fingerprint}, BundleCheck)


class TimeStampingController(Controller):
    path = "/tsa"
    tags = ["signatures"]
    opt = {**PUBLIC, **RAW_BODY}  # a DER body, its type and size checked by the handler

    @post("/", status_code=200, media_type=TIMESTAMP_REPLY,
          summary="The hospital's small RFC 3161 time-stamping authority (demo and tests; production uses a "
                  "licensed TSA through HOSPITAL_TSA_URL)",
          description="POST a DER TimeStampReq (application/timestamp-query, SHA-256 imprint); the answer is a DER "
                      "TimeStampResp whose token is signed by the TSA certificate the hospital CA issued.")
    async def stamp(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext
                    ) -> Response[bytes]:
        if request.headers.get("content-type", "").split(";")[0].strip() != TIMESTAMP_QUERY:
            raise UnsupportedMediaType(f"send a DER TimeStampReq as {TIMESTAMP_QUERY}")
        body = await request.body()
        if len(body) > 4096:
            raise PayloadTooLarge("a TimeStampReq is a few hundred bytes")
        return Response(await service.stamp_time(db_session, ctx, body), media_type=TIMESTAMP_REPLY)


class DeviceSignatureBody(msgspec.Struct, forbid_unknown_fields=True):
    """The signature fields of a signing act (RX-05): the device on the first trip, then also the signing request
    the 428 answer carried and the device's compact JWS over its `payload_b64`."""

    device_id: uuid.UUID | None = None
    signing_request: Annotated[str, msgspec.Meta(max_length=20_000)] | None = None
    jws: Annotated[str, msgspec.Meta(max_length=100_000)] | None = None



def device_signature(body: DeviceSignatureBody | None) -> service.DeviceSignature:
    """The service's view of a request's `signature` object (absent: no device named, RX-05 refuses)."""
    if body is None:
        return service.DeviceSignature()
    return service.DeviceSignature(body.device_id, body.signing_request, body.jws)


class DeviceRegistrationBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    public_key: Annotated[str, msgspec.Meta(min_length=40, max_length=400)]  # SPKI DER, base64
    nonce: Annotated[str, msgspec.Meta(max_length=1000)]
    proof: Annotated[str, msgspec.Meta(max_length=200)]  # base64url raw r||s over the nonce


class DeviceRevocationBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Literal["key_compromise", "cessation_of_operation"] = "cessation_of_operation"
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


requires_signer = requires_role(Role.DOCTOR, Role.PHARMACIST)


class SigningDeviceController(Controller):
    """A clinician's own signing devices (RX-05, FACE-03): the key stays on the device; the CA certifies it."""

    path = "/api/me/signing-devices"
    tags = ["signatures"]
    guards = [requires_signer]

    @post("/nonce", status_code=200, summary="A nonce for a new device's proof of possession (valid 5 minutes)")
    async def nonce(self, request: Request[Any, Any, Any], ctx: HospitalContext) -> DeviceNonce:
        return msgspec.convert(service.device_nonce(ctx, principal_of(request).user_id), DeviceNonce)

    @post("/", status_code=201, summary="Register a signing device: its public key, proven over the nonce; needs a "
                                         "fresh face verification (FACE-03). Answers with its certificate chain")
    async def register(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                       data: DeviceRegistrationBody) -> SigningDevice:
        credential = await service.register_device(db_session, ctx, actor_of(request), principal_of(request),
                                                   name=data.name, public_key_b64=data.public_key, nonce=data.nonce,
                                                   proof=data.proof)
        signing = await service.hospital_signing(db_session, ctx)
        return msgspec.convert(service.device_view(credential, signing.certificate_pem), SigningDevice)

    @get("/", summary="My signing devices, with the certificate chain each signs under")
    async def mine(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                   ctx: HospitalContext) -> list[SigningDevice]:
        return msgspec.convert(await service.devices_of(db_session, ctx, principal_of(request).user_id),
                               list[SigningDevice])

    @post("/{device_id:uuid}/revocation", status_code=200, summary="Revoke one of my signing devices (CRL, audit)")
    async def revoke(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     device_id: uuid.UUID, data: DeviceRevocationBody) -> SigningDevice:
        credential = await service.revoke_device(db_session, ctx, actor_of(request), device_id,
                                                 owner_user_id=principal_of(request).user_id, reason=data.reason,
                                                 note=data.note)
        return msgspec.convert(service.device_view(credential), SigningDevice)


class SigningAdminController(Controller):
    path = "/api/staff"
    tags = ["staff"]
    guards = [requires_admin]

    @get("/{staff_id:uuid}/signing-devices", summary="A clinician's signing devices (RX-05)")
    async def devices(self, db_session: AsyncSession, ctx: HospitalContext,
                      staff_id: uuid.UUID) -> list[SigningDevice]:
        return msgspec.convert(await service.staff_devices(db_session, ctx, staff_id), list[SigningDevice])

    @post("/{staff_id:uuid}/signing-devices/{device_id:uuid}/revocation", status_code=200,
          summary="Revoke a clinician's signing device: lost, stolen or retired (RX-05; CRL, audit)")
    async def revoke(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     staff_id: uuid.UUID, device_id: uuid.UUID, data: DeviceRevocationBody) -> SigningDevice:
        credential = await service.revoke_device(db_session, ctx, actor_of(request), device_id, owner_user_id=None,
                                                 staff_id=staff_id, reason=data.reason, note=data.note)
        return msgspec.convert(service.device_view(credential), SigningDevice)
