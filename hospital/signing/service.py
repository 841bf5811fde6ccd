"""Clinicians' signing credentials and signatures (RX-05, FACE-03): issue at admission, revoke on suspension,
sign, verify, publish.

Each doctor and pharmacist gets an EC P-256 key and a certificate from the hospital CA (`authority.py`) when
admitted (`on_admission`, a subscriber to staff's `ClinicianAdmitted`, wired in `hospital/wiring.py`). The private
key is encrypted with the key passphrase and sealed with the field key, bound to its credential row. A suspension
revokes the certificate and issues a new CRL in the same transaction; reinstatement issues a new certificate
(`on_suspension_changed`, a subscriber to `SuspensionChanged`).

Callers check freshness before asking for a signature: FACE-03 (`require_signing_freshness`) for a doctor's
prescription or EMR, FACE-02 for a pharmacist's review. Only `reissue_credential` and `verify_bundle` commit;
the other functions add to the caller's transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import InvalidInput, NotFound, RuleViolation, ServiceUnavailable
from hospital.signing.authority import (
    HospitalSigning,
    current_crl,
    hospital_signing,
    hospital_tsa,
    published_crl,
    reissue_crl,
    signing_of,
    start_signing,
    timestamps_of,
)
from hospital.signing.ca import ClinicianIdentity, ClinicianRole, generate_clinician_key
from hospital.signing.jwks import jwks_document
from hospital.signing.jws import Signer, VerifiedSignature
from hospital.signing.models import ClinicianCredential, SignatureTimestamp
from hospital.signing.pem import (
    certificate_from_pem,
    certificate_to_pem,
    crl_to_pem,
    encrypt_private_key,
    fingerprint_sha256,
    load_private_key,
)
from hospital.signing.rules import check_signing_credential
from hospital.signing.timestamps import TimestampInvalid, token_time
from hospital.signing.verify_export import ExportReport, verify_export
from hospital.staff.events import ClinicianAdmitted, SuspensionChanged
from hospital.staff.models import StaffMember

__all__ = [
    "ClinicianSigner",
    "CredentialView",
    "HospitalSigning",
    "clinician_credentials",
    "current_crl",
    "hospital_signing",
    "issue_credential",
    "jwks",
    "on_admission",
    "on_suspension_changed",
    "published_crl",
    "reissue_credential",
    "revoke_credentials",
    "sign_document",
    "signer_for",
    "signing_of",
    "stamp_time",
    "start_signing",
    "timestamp_tokens",
    "verify_bundle",
    "verify_signature",
]


@dataclass(frozen=True, slots=True)
class ClinicianSigner:
    """A clinician's unlocked signer and the credential it belongs to; every signature is time-stamped."""

    signer: Signer
    credential: ClinicianCredential
    stamp: Callable[[str], None] | None = None

    def sign(self, payload: dict[str, Any]) -> str:
        """The JWS; its RFC 3161 token is added to the caller's transaction (ServiceUnavailable without one)."""
        token = self.signer.sign(payload)
        if self.stamp is not None:
            self.stamp(token)
        return token


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


def _key_context(credential_id: uuid.UUID) -> str:
    return f"signing.key:{credential_id}"


async def issue_credential(session: AsyncSession, ctx: HospitalContext, actor: Actor,
                           member: StaffMember) -> ClinicianCredential | None:
    """A new key and certificate for a doctor or pharmacist, replacing any active one (RX-05)."""
    role = _role_of(member.kind)
    if role is None:
        return None
    signing = await hospital_signing(session, ctx)
    await revoke_credentials(session, ctx, actor, member.user_id, x509.ReasonFlags.superseded)
    now = ctx.now()
    key = generate_clinician_key()
    certificate = signing.ca.issue_clinician_certificate(
        key.public_key(), ClinicianIdentity(member.real_name, str(member.id), role), now=now,
        credential_expires_at=_credential_expiry(member, now, ctx.time_zone))
    credential = ClinicianCredential(
        id=uuid.uuid4(), user_id=member.user_id, staff_id=member.id, role=str(role),
        certificate_pem=certificate_to_pem(certificate), serial=format(certificate.serial_number, "x"),
        fingerprint=fingerprint_sha256(certificate), not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc, private_key_sealed=b"")
    credential.private_key_sealed = ctx.cipher.seal(encrypt_private_key(key, ctx.settings.key_passphrase),
                                                    context=_key_context(credential.id))
    session.add(credential)
    await session.flush()
    await append_audit(session, actor, "signing.credential_issued", subject_type="staff", subject_id=member.id,
                       rule_id="RX-05", detail={"certificate_serial": credential.serial,
                                                "fingerprint": credential.fingerprint,
                                                "not_after": credential.not_after})
    return credential


async def revoke_credentials(session: AsyncSession, ctx: HospitalContext, actor: Actor, user_id: uuid.UUID,
                             reason: x509.ReasonFlags, *, invalid_since: datetime | None = None,
                             note: str | None = None) -> list[ClinicianCredential]:
    """Revoke the user's active credentials and issue a new CRL in the same transaction.

    The reason goes into the CRL entry; `invalid_since` (default: now) into its invalidity date. With a reason
    that says the key was not compromised (a suspension: privilege_withdrawn), signatures made before that date
    keep verifying (`RevocationList.check`)."""
    active = list((await session.execute(select(ClinicianCredential).where(
        ClinicianCredential.user_id == user_id, ClinicianCredential.revoked_at.is_(None)))).scalars().all())  # type: ignore[union-attr]
    if not active:
        return []
    now = ctx.now()
    for credential in active:
        credential.revoked_at, credential.revocation_reason = now, reason.value
        credential.invalid_since = min(invalid_since or now, now)
        credential.touch()
        await append_audit(session, actor, "signing.credential_revoked", subject_type="staff",
                           subject_id=credential.staff_id, rule_id="RX-05",
                           detail={"certificate_serial": credential.serial, "reason": reason.value,
                                   "invalid_since": credential.invalid_since, "note": note}, cipher=ctx.cipher)
    await session.flush()
    await reissue_crl(session, ctx)
    return active


async def on_admission(session: AsyncSession, ctx: HospitalContext, admitted: ClinicianAdmitted) -> None:
    """Subscriber to `ClinicianAdmitted`: every admitted doctor and pharmacist gets a signing credential."""
    await issue_credential(session, ctx, admitted.actor, await _member(session, admitted.staff_id))


async def on_suspension_changed(session: AsyncSession, ctx: HospitalContext, changed: SuspensionChanged) -> None:
    """Subscriber to `SuspensionChanged`: a suspension revokes the certificate; reinstatement issues a new one."""
    if changed.suspended:
        # Not a compromise: what the clinician signed before the suspension stays valid (invalidity date = now).
        await revoke_credentials(session, ctx, changed.actor, changed.user_id, x509.ReasonFlags.privilege_withdrawn,
                                 invalid_since=ctx.now(), note=changed.reason)
    elif await _active_credential(session, changed.user_id) is None:
        await issue_credential(session, ctx, changed.actor, await _member(session, changed.staff_id))


async def _member(session: AsyncSession, staff_id: uuid.UUID) -> StaffMember:
    member = await session.get(StaffMember, staff_id)  # the publisher's row, from the session's identity map
    if member is None:
        raise NotFound("no such staff member")
    return member


async def _active_credential(session: AsyncSession, user_id: uuid.UUID) -> ClinicianCredential | None:
    return (await session.execute(select(ClinicianCredential).where(
        ClinicianCredential.user_id == user_id, ClinicianCredential.revoked_at.is_(None)))).scalar_one_or_none()  # type: ignore[union-attr]


async def signer_for(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID) -> ClinicianSigner:
    """The clinician's signer; RX-05 refuses when they hold no valid, unrevoked certificate."""
    signing = await hospital_signing(session, ctx)
    credential = await _active_credential(session, user_id)
    check_signing_credential(credential.not_before if credential else None,
                             credential.not_after if credential else None, ctx.now())
    assert credential is not None
    sealed = ctx.cipher.open(credential.private_key_sealed, context=_key_context(credential.id))
    key = load_private_key(sealed, ctx.settings.key_passphrase)
    signer = Signer(key, [certificate_from_pem(credential.certificate_pem), signing.ca.certificate])
    timestamps = await timestamps_of(session, ctx)

    def stamp(jws: str) -> None:
        try:
            token = timestamps.stamp(jws.encode("ascii"))
        except TimestampInvalid as exc:
            raise ServiceUnavailable(f"no trusted time for the signature: {exc}; try again", rule_id="RX-05") from exc
        now = ctx.now()
        session.add(SignatureTimestamp(jws_sha256=_jws_sha256(jws), token=token, gen_time=token_time(token),
                                       source=timestamps.source, created_at=now, updated_at=now))

    return ClinicianSigner(signer, credential, stamp)


def _jws_sha256(jws: str) -> str:
    return hashlib.sha256(jws.encode("ascii")).hexdigest()


async def timestamp_tokens(session: AsyncSession, signatures: Mapping[str, str]) -> dict[str, bytes]:
    """The RFC 3161 tokens of named signatures ({"prescription_jws": jws, ...}) for an export; missing ones left out."""
    digests = {name: _jws_sha256(jws) for name, jws in signatures.items()}
    rows = (await session.execute(select(SignatureTimestamp.jws_sha256, SignatureTimestamp.token).where(
        SignatureTimestamp.jws_sha256.in_(list(digests.values()))))).all()  # type: ignore[attr-defined]
    found = {digest: token for digest, token in rows}
    return {name: found[digest] for name, digest in digests.items() if digest in found}


async def sign_document(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID,
                        payload: dict[str, Any]) -> str:
    """RX-05: the clinician's compact JWS (ES256, x5c) over the canonical JSON of `payload`.

    The caller has already checked the clinician's fresh face verification (FACE-03) and standing (STAFF-03).
    """
    return (await signer_for(session, ctx, user_id)).sign(payload)


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


async def reissue_credential(session: AsyncSession, ctx: HospitalContext, actor: Actor,
                             staff_id: uuid.UUID) -> ClinicianCredential:
    """An administrator renews a clinician's certificate (expiry, renewed credentials, suspected key loss)."""
    member = await _member(session, staff_id)
    if member.suspended:
        raise RuleViolation("STAFF-03", "a suspended clinician gets no signing certificate")
    credential = await issue_credential(session, ctx, actor, member)
    if credential is None:
        raise InvalidInput(f"a {member.kind} signs nothing online and holds no signing certificate")
    await session.commit()
    return credential
