"""Clinicians' signing devices as credentials of the hospital CA (RX-05, FACE-03): register, list, revoke, publish,
and the hospital's own checks of signatures and exports.

A clinician, after a fresh face verification (FACE-03), registers a signing device: its public key with a proof
of possession over a nonce the server sealed (`device_nonce`, `register_device`), and the hospital CA issues a
certificate naming the clinician and the device. A clinician may hold several; they or an administrator revoke
one (`revoke_device`), and a suspension revokes them all (`on_suspension_changed`), each with a new CRL and an
outbox event the connector reports to the platform (`signing.device_revoked`). Only `register_device`,
`revoke_device` and `verify_bundle` commit; the others add to the caller's transaction.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import func, select

from hospital.biometrics.gate import require_signing_freshness
from hospital.context import HospitalContext
from hospital.contracts.staff import SigningDeviceRevoked
from hospital.core.audit import Actor, append_audit
from hospital.core.crypto import SealedValueError
from hospital.core.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hospital.core.outbox import emit
from hospital.identity.tokens import Principal
from hospital.signing.authority import current_crl, hospital_signing, hospital_tsa, reissue_crl
from hospital.signing.ca import ClinicianIdentity, ClinicianRole
from hospital.signing.device import public_key_from_b64, verify_possession
from hospital.signing.jwks import jwks_document
from hospital.signing.jws import VerifiedSignature
from hospital.signing.models import ClinicianCredential
from hospital.signing.pem import certificate_from_pem, certificate_to_pem, crl_to_pem, fingerprint_sha256
from hospital.signing.verify_export import ExportReport, verify_export
from hospital.staff.events import SuspensionChanged
from hospital.staff.models import StaffMember
from hospital.staff.service import current_record

__all__ = ["CredentialView", "clinician_credentials", "device_nonce", "device_view", "devices_of", "jwks",
           "on_suspension_changed", "register_device", "revoke_credentials", "revoke_device", "staff_devices",
           "stamp_time", "verify_bundle", "verify_signature"]


@dataclass(frozen=True, slots=True)
class CredentialView:
    """A clinician's e-credential as the public disclosure page shows it (INS-03)."""

    staff_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    role: str
    certificate_serial: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"staff_id": str(self.staff_id), "name": self.name, "role": self.role,
                "certificate_serial": self.certificate_serial, "fingerprint": self.fingerprint,
                "not_before": self.not_before.isoformat(), "not_after": self.not_after.isoformat(),
                "status": "revoked" if self.revoked_at else "active"}


NONCE_VALID_FOR = timedelta(minutes=5)
_DEVICE_REVOCATION_REASONS = {"key_compromise": x509.ReasonFlags.key_compromise,
                              "cessation_of_operation": x509.ReasonFlags.cessation_of_operation}


def _role_of(kind: str) -> ClinicianRole | None:
    try:
        return ClinicianRole(kind)
    except ValueError:
        return None  # nurses sign nothing online


def _credential_expiry(member: StaffMember, now: datetime, zone: tzinfo) -> datetime:
    """The end (in the hospital's zone, Beijing by default) of the day the earliest-expiring credential runs out:
    a credential's valid_until is a calendar day."""
    dates = [date.fromisoformat(until) for c in member.credentials if (until := c.get("valid_until"))]
    if not dates:
        return now + timedelta(days=365)
    return datetime.combine(min(dates) + timedelta(days=1), time(0), zone)


async def revoke_credentials(session: AsyncSession, ctx: HospitalContext, actor: Actor, user_id: uuid.UUID,
                             reason: x509.ReasonFlags, *, invalid_since: datetime | None = None,
                             note: str | None = None, only: uuid.UUID | None = None) -> list[ClinicianCredential]:
    """Revoke the user's active credentials and issue a new CRL in the same transaction.

    The reason goes into the CRL entry; `invalid_since` (default: now) into its invalidity date. With a reason
    that says the key was not compromised (a suspension: privilege_withdrawn), signatures made before that date
    keep verifying (`RevocationList.check`)."""
    query = select(ClinicianCredential).where(ClinicianCredential.user_id == user_id,
                                              ClinicianCredential.revoked_at.is_(None))  # type: ignore[union-attr]
    if only is not None:
        query = query.where(ClinicianCredential.id == only)
    active = list((await session.execute(query)).scalars().all())
    if not active:
        return []
    now = ctx.now()
    for credential in active:
        credential.revoked_at, credential.revocation_reason = now, reason.value
        credential.invalid_since = min(invalid_since or now, now)
        credential.touch()
        await append_audit(session, actor, "signing.credential_revoked", subject_type="staff",
                           subject_id=credential.staff_id, rule_id="RX-05",
                           detail={"device_id": credential.id, "certificate_serial": credential.serial, "reason": reason.value,
                                   "invalid_since": credential.invalid_since, "note": note}, cipher=ctx.cipher)
    await session.flush()
    await reissue_crl(session, ctx)
    await _report_revoked(session, ctx, user_id, active)
    return active


async def _report_revoked(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID,
                          revoked: list[ClinicianCredential]) -> None:
    """RX-05, STAFF-04: the platform learns of each revoked device certificate, in the revoking transaction, as an
    update of the clinician's record carrying the certificate's state (the connector's mapping, docs/connector.md)."""
    member = await _member_of_user(session, user_id)
    record = current_record(ctx, member)
    still_active = (await session.execute(select(func.count()).select_from(ClinicianCredential).where(
        ClinicianCredential.user_id == user_id, ClinicianCredential.revoked_at.is_(None)))).scalar_one()  # type: ignore[union-attr]
    for credential in revoked:
        assert credential.revoked_at is not None and credential.invalid_since is not None  # set just above
        # One event per device, once: a device is revoked only once (Conflict otherwise), so version 1 is its key.
        await emit(session, "signing.device_revoked", subject_type="signing_device", subject_id=credential.id,
                   payload=SigningDeviceRevoked(
                       staff_id=str(member.id), device_id=str(credential.id), certificate_serial=credential.serial,
                       fingerprint=credential.fingerprint, reason=str(credential.revocation_reason),
                       revoked_at=credential.revoked_at, invalid_since=credential.invalid_since,
                       active_devices=int(still_active), record=record),
                   cipher=ctx.cipher)  # REC-03: `record` (the ID number) is sealed


async def on_suspension_changed(session: AsyncSession, ctx: HospitalContext, changed: SuspensionChanged) -> None:
    """Subscriber to `SuspensionChanged`: a suspension revokes every signing device of the clinician. On
    reinstatement the clinician registers a device again, after a fresh face verification (FACE-03)."""
    if changed.suspended:
        # Not a compromise: what the clinician signed before the suspension stays valid (invalidity date = now).
        await revoke_credentials(session, ctx, changed.actor, changed.user_id, x509.ReasonFlags.privilege_withdrawn,
                                 invalid_since=ctx.now(), note=changed.reason)


async def _member_of_user(session: AsyncSession, user_id: uuid.UUID) -> StaffMember:
    member = (await session.execute(select(StaffMember).where(StaffMember.user_id == user_id))).scalar_one_or_none()
    if member is None:
        raise NotFound("no such staff member")
    return member


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _open_sealed(ctx: HospitalContext, text: str, context: str, what: str) -> dict[str, Any]:
    """A value the hospital sealed for this context; RX-05 refuses anything else or anything expired."""
    try:
        opened = json.loads(ctx.cipher.open(_b64url_decode(text), context=context))
    except (SealedValueError, ValueError, TypeError) as exc:
        raise RuleViolation("RX-05", f"this {what} was not issued to you for this act; ask for a new one") from exc
    if not isinstance(opened, dict) or datetime.fromisoformat(str(opened.get("expires_at"))) < ctx.now():
        raise RuleViolation("RX-05", f"this {what} has expired; ask for a new one")
    return opened


def device_nonce(ctx: HospitalContext, user_id: uuid.UUID) -> dict[str, str]:
    """A nonce for a device's proof of possession: sealed to this user, valid 5 minutes, stored nowhere."""
    expires_at = ctx.now() + NONCE_VALID_FOR
    body = json.dumps({"random": secrets.token_hex(16), "expires_at": expires_at.isoformat()}).encode()
    return {"nonce": _b64url(ctx.cipher.seal(body, context=f"signing.device_nonce:{user_id}")),
            "expires_at": expires_at.isoformat()}


async def register_device(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal, *,
                          name: str, public_key_b64: str, nonce: str, proof: str) -> ClinicianCredential:
    """RX-05, FACE-03: a doctor or pharmacist, freshly face-verified, registers a device key; the CA certifies it."""
    require_signing_freshness(ctx, principal)  # FACE-03: the device is bound to the verified person
    member = await _member_of_user(session, principal.user_id)
    role = _role_of(member.kind)
    if role is None:
        raise RuleViolation("RX-05", f"a {member.kind} signs nothing online and registers no signing device")
    if member.suspended:
        raise RuleViolation("STAFF-03", "a suspended clinician registers no signing device")
    _open_sealed(ctx, nonce, f"signing.device_nonce:{principal.user_id}", "nonce")
    public_key = public_key_from_b64(public_key_b64)
    if not verify_possession(public_key, nonce, proof):
        raise RuleViolation("RX-05", "the proof of possession does not verify: sign the nonce with the device key")
    spki_sha256 = hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()
    if (await session.execute(select(ClinicianCredential.id).where(
            ClinicianCredential.public_key_sha256 == spki_sha256))).first() is not None:
        raise Conflict("this key is already registered; a device generates a new key to register again",
                       rule_id="RX-05")
    signing = await hospital_signing(session, ctx)
    now = ctx.now()
    device_id = uuid.uuid4()
    certificate = signing.ca.issue_clinician_certificate(
        public_key, ClinicianIdentity(member.real_name, str(member.id), role), now=now,
        credential_expires_at=_credential_expiry(member, now, ctx.time_zone), device_id=str(device_id))
    credential = ClinicianCredential(
        id=device_id, user_id=member.user_id, staff_id=member.id, role=str(role),
        certificate_pem=certificate_to_pem(certificate), serial=format(certificate.serial_number, "x"),
        fingerprint=fingerprint_sha256(certificate), not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc, device_name=name.strip() or "device",
        public_key_sha256=spki_sha256)
    session.add(credential)
    await session.flush()
    await append_audit(session, actor, "signing.device_registered", subject_type="staff", subject_id=member.id,
                       rule_id="RX-05", detail={"device_id": device_id, "certificate_serial": credential.serial,
                                                "fingerprint": credential.fingerprint,
                                                "not_after": credential.not_after})
    await session.commit()
    return credential


def device_view(credential: ClinicianCredential, ca_certificate_pem: str | None = None) -> dict[str, Any]:
    """A signing device as its owner and the administrators see it (with the chain a client puts in x5c)."""
    view: dict[str, Any] = {
        "device_id": str(credential.id), "name": credential.device_name, "role": credential.role,
        "staff_id": str(credential.staff_id), "certificate_serial": credential.serial,
        "fingerprint": credential.fingerprint, "not_before": credential.not_before.isoformat(),
        "not_after": credential.not_after.isoformat(),
        "status": "revoked" if credential.revoked_at else "active",
        "revoked_at": credential.revoked_at.isoformat() if credential.revoked_at else None,
        "revocation_reason": credential.revocation_reason}
    if ca_certificate_pem is not None:
        view["certificate_chain_pem"] = [credential.certificate_pem, ca_certificate_pem]
    return view


async def devices_of(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The user's signing devices, active first (the server-held keys revoked by migration 0016 included)."""
    signing = await hospital_signing(session, ctx)
    rows = (await session.execute(select(ClinicianCredential).where(ClinicianCredential.user_id == user_id).order_by(
        ClinicianCredential.revoked_at.is_not(None), ClinicianCredential.created_at))).scalars().all()  # type: ignore[union-attr,arg-type]
    return [device_view(c, signing.certificate_pem) for c in rows]


async def staff_devices(session: AsyncSession, ctx: HospitalContext, staff_id: uuid.UUID) -> list[dict[str, Any]]:
    """An administrator's view of a clinician's signing devices."""
    member = await session.get(StaffMember, staff_id)
    if member is None:
        raise NotFound("no such staff member")
    return await devices_of(session, ctx, member.user_id)


async def revoke_device(session: AsyncSession, ctx: HospitalContext, actor: Actor, device_id: uuid.UUID, *,
                        owner_user_id: uuid.UUID | None, reason: str, staff_id: uuid.UUID | None = None,
                        note: str | None = None) -> ClinicianCredential:
    """The clinician (`owner_user_id`) or an administrator (None) revokes one device: CRL, audit, report.

    `reason`: "key_compromise" (lost or stolen: everything the key signed stops verifying) or
    "cessation_of_operation" (retired: what it signed before stays valid)."""
    flag = _DEVICE_REVOCATION_REASONS.get(reason)
    if flag is None:
        raise InvalidInput("reason is key_compromise or cessation_of_operation")
    credential = await session.get(ClinicianCredential, device_id)
    if credential is None or (owner_user_id is not None and credential.user_id != owner_user_id) or (
            staff_id is not None and credential.staff_id != staff_id):
        raise NotFound("no such signing device")
    if credential.revoked_at is not None:
        raise Conflict("this device is already revoked", rule_id="RX-05")
    await revoke_credentials(session, ctx, actor, credential.user_id, flag, only=credential.id, note=note)
    await session.commit()
    return credential


async def verify_signature(session: AsyncSession, ctx: HospitalContext, token: str,
                           at: datetime | None = None) -> VerifiedSignature:
    """Check a JWS against the hospital CA and its current CRL; SignatureInvalid says why not."""
    signing = await hospital_signing(session, ctx)
    crl = await current_crl(session, ctx)
    return signing.verifier.verify(token, crl_or_revoked_serials=crl, at=at or ctx.now())


async def verify_bundle(session: AsyncSession, ctx: HospitalContext, bundle: Mapping[str, Any],
                        at: datetime | None = None) -> ExportReport:
    """The offline check of an export bundle, run by the hospital against its own CA and *current* CRL.

    The bundle's own CRL may predate a revocation, so the hospital's current one replaces it.
    """
    signing = await hospital_signing(session, ctx)
    crl = await current_crl(session, ctx)
    checked = {**bundle, "crl_pem": crl_to_pem(crl)} if isinstance(bundle, Mapping) else bundle
    report = verify_export(checked, trusted_roots=[signing.ca.certificate], at=at or ctx.now())
    await session.commit()  # a CRL renewal, if one was due
    return report


async def stamp_time(session: AsyncSession, ctx: HospitalContext, request_der: bytes) -> bytes:
    """The hospital TSA's DER TimeStampResp to a DER TimeStampReq (RFC 3161); the TSA's row is created and
    committed on its first use."""
    tsa = await hospital_tsa(session, ctx)
    await session.commit()
    return tsa.respond(request_der, ctx.now())


async def jwks(session: AsyncSession, ctx: HospitalContext) -> dict[str, Any]:
    """`/.well-known/jwks.json`: every unrevoked clinician key valid now, with its chain."""
    signing = await hospital_signing(session, ctx)
    active = (await session.execute(select(ClinicianCredential).where(
        ClinicianCredential.revoked_at.is_(None)).order_by(ClinicianCredential.created_at))).scalars().all()  # type: ignore[union-attr,arg-type]
    chains = [[certificate_from_pem(c.certificate_pem), signing.ca.certificate] for c in active]
    return jwks_document(chains, at=ctx.now())


async def clinician_credentials(session: AsyncSession) -> list[CredentialView]:
    """Every clinician's signing certificates (active first, then revoked), for the disclosure page."""
    rows = (await session.execute(
        select(ClinicianCredential, StaffMember.real_name)
        .join(StaffMember, StaffMember.id == ClinicianCredential.staff_id)  # type: ignore[arg-type]
        .order_by(ClinicianCredential.revoked_at.is_not(None), StaffMember.real_name, ClinicianCredential.created_at)  # type: ignore[union-attr,arg-type]
    )).all()
    return [CredentialView(c.staff_id, c.user_id, name, c.role, c.serial, c.fingerprint, c.not_before, c.not_after,
                           c.revoked_at) for c, name in rows]
