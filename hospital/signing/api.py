"""What a pharmacy or the regulator needs to check signatures (RX-05, RX-06), and certificate renewal.

PUBLIC: `/.well-known/jwks.json` (clinicians' keys), `/.well-known/hospital-ca.pem` (the root to trust),
`/.well-known/hospital-crl.pem` (revocations), and `POST /api/rx/verify`, the same check as `hospital rx verify`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.errors import PayloadTooLarge, UnsupportedMediaType
from hospital.identity.guards import requires_admin
from hospital.signing import service
from hospital.signing.timestamps import TIMESTAMP_QUERY, TIMESTAMP_REPLY
from hospital.web.http import PUBLIC, RAW_BODY, actor_of

__all__ = ["SignatureVerificationController", "SigningAdminController", "TimeStampingController",
           "WellKnownController"]

PEM_CERTIFICATE = "application/x-pem-file"
PEM_CRL = "application/pkix-crl"  # PEM-armoured here, so browsers and `openssl crl` both read it


class WellKnownController(Controller):
    path = "/.well-known"
    tags = ["signatures"]
    opt = PUBLIC

    @get("/jwks.json", summary="Every active clinician signing key with its certificate chain (RX-05)")
    async def jwks(self, db_session: AsyncSession, ctx: HospitalContext) -> dict[str, Any]:
        return await service.jwks(db_session, ctx)

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
    async def verify(self, db_session: AsyncSession, ctx: HospitalContext, data: dict[str, Any],
                     at: datetime | None = None) -> dict[str, Any]:
        report = await service.verify_bundle(db_session, ctx, data, at)
        signing = await service.hospital_signing(db_session, ctx)
        return {**report.as_dict(), "trusted_ca_fingerprint": signing.fingerprint}


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


class SigningAdminController(Controller):
    path = "/api/staff"
    tags = ["staff"]
    guards = [requires_admin]

    @post("/{staff_id:uuid}/signing-credential", summary="Issue a new signing certificate, revoking the old (RX-05)")
    async def reissue(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                      staff_id: uuid.UUID) -> dict[str, Any]:
        credential = await service.reissue_credential(db_session, ctx, actor_of(request), staff_id)
        return {"staff_id": str(credential.staff_id), "certificate_serial": credential.serial,
                "fingerprint": credential.fingerprint, "not_after": credential.not_after.isoformat()}
