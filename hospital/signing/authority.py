"""The hospital CA as the running hospital holds it: created once, loaded once, its CRL kept current (RX-05).

The CA is created on the first start (or the first admission, whichever comes first) in the database table
`signing_authority`, not in the data directory, so every app replica signs and verifies with the same root; its
private key is stored only as PKCS#8 PEM encrypted with `settings.key_passphrase`. It is never regenerated: a
wrong passphrase stops the hospital (ConfigurationError, 503) and a missing CA while clinician credentials exist
is an IntegrityFailure. Once loaded it stays in `ctx.signing` (`signing_of(ctx)`) with one
long-lived `SignatureVerifier`, whose per-certificate path checks are cached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import select

from hospital.config import ConfigurationError
from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import IntegrityFailure, InvalidInput
from hospital.signing.ca import CertificateAuthority, Revocation, create_root_ca
from hospital.signing.jws import SignatureVerifier
from hospital.signing.models import ClinicianCredential, SigningAuthority
from hospital.signing.pem import (
    certificate_from_pem,
    certificate_to_pem,
    crl_from_pem,
    crl_to_pem,
    encrypt_private_key,
    fingerprint_sha256,
    load_private_key,
)
from hospital.signing.timestamps import HttpTimestamps, LocalTimestamps, TimestampAuthority, Timestamps

__all__ = [
    "CA_NAME",
    "HospitalSigning",
    "current_crl",
    "hospital_signing",
    "hospital_tsa",
    "key_beside_ca",
    "named_authority",
    "published_crl",
    "reissue_crl",
    "signing_of",
    "start_signing",
    "timestamps_of",
]

log = logging.getLogger("hospital.signing")

CA_NAME = "hospital-root"
TSA_NAME = "hospital-tsa"
CRL_VALIDITY = timedelta(days=7)
CRL_RENEW_BEFORE = timedelta(days=1)
_CREATED_KEY = "signing.created_authority"
_CA_LOCK_KEY = 0x5349_474E_4341  # "SIGNCA": two replicas starting at once create one CA


@dataclass(slots=True)
class HospitalSigning:
    """The loaded CA and the one long-lived verifier (it caches each signer's checked certificate path)."""

    ca: CertificateAuthority
    fingerprint: str
    verifier: SignatureVerifier
    crl_cache: tuple[str, x509.CertificateRevocationList] | None = field(default=None)
    tsa: TimestampAuthority | None = field(default=None)  # the small TSA, once loaded (`hospital_tsa`)
    seal: Any = field(default=None)  # the hospital's document seal, once loaded (`seal.hospital_seal`)

    @property
    def certificate_pem(self) -> str:
        return certificate_to_pem(self.ca.certificate)


def signing_of(ctx: HospitalContext) -> HospitalSigning | None:
    """The CA loaded in this process, if any (`hospital_signing` loads it)."""
    return ctx.signing


async def start_signing(factory: async_sessionmaker[AsyncSession], ctx: HospitalContext) -> HospitalSigning:
    """At start-up (the app's lifespan): load the CA, or create it on the very first start, and commit."""
    async with factory() as session:
        signing = await hospital_signing(session, ctx)
        await session.commit()
    ctx.signing = signing
    return signing


async def hospital_signing(session: AsyncSession, ctx: HospitalContext) -> HospitalSigning:
    """The hospital CA: cached, else loaded from the database, else created in the caller's transaction."""
    cached = signing_of(ctx)
    if cached is not None:
        return cached
    created = session.info.get(_CREATED_KEY)
    if isinstance(created, HospitalSigning):
        return created
    row = await _authority(session)
    if row is None:
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            await session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CA_LOCK_KEY})
        row = await _authority(session)
    if row is not None:
        signing = _load(ctx, row)
        ctx.signing = signing
        return signing
    signing = await _create_authority(session, ctx)
    _cache_once_committed(session, ctx, signing)
    return signing


def _cache_once_committed(session: AsyncSession, ctx: HospitalContext, signing: HospitalSigning) -> None:
    """Use a new CA within its transaction; cache it for the process only if that transaction commits."""
    session.info[_CREATED_KEY] = signing

    def committed(_: Any) -> None:
        if session.info.pop(_CREATED_KEY, None) is signing:
            ctx.signing = signing

    def rolled_back(_: Any) -> None:
        if session.info.get(_CREATED_KEY) is signing:
            del session.info[_CREATED_KEY]

    sa.event.listen(session.sync_session, "after_commit", committed, once=True)
    sa.event.listen(session.sync_session, "after_rollback", rolled_back, once=True)


async def hospital_tsa(session: AsyncSession, ctx: HospitalContext) -> TimestampAuthority:
    """The hospital's small time-stamping authority (RFC 3161), created beside the CA on first use.

    Its key is stored like the CA's (row `hospital-tsa` of `signing_authority`, PKCS#8 encrypted with the key
    passphrase); its certificate is issued by the hospital CA with the critical EKU timeStamping.
    """
    signing = await hospital_signing(session, ctx)
    if signing.tsa is not None:
        return signing.tsa
    certificate, key, _ = await key_beside_ca(
        session, ctx, TSA_NAME, lambda public_key, now: signing.ca.issue_tsa_certificate(public_key, now=now),
        "signing.tsa_created")
    signing.tsa = TimestampAuthority(certificate, key, [signing.ca.certificate])
    return signing.tsa


async def timestamps_of(session: AsyncSession, ctx: HospitalContext) -> Timestamps:
    """Where signatures get their tokens: the TSA at `HOSPITAL_TSA_URL`, else the hospital's own small TSA."""
    if ctx.settings.tsa_url:
        return HttpTimestamps(ctx.settings.tsa_url)
    return LocalTimestamps(await hospital_tsa(session, ctx), ctx.now)


async def key_beside_ca(session: AsyncSession, ctx: HospitalContext, name: str,
                        issue: Callable[[ec.EllipticCurvePublicKey, datetime], x509.Certificate], action: str
                        ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, bool]:
    """A key of the hospital's beside the CA (the TSA's, the seal's), stored as row `name` of `signing_authority`:
    the stored one, or, the first time, a new one whose certificate `issue` makes with the CA, stored (PKCS#8
    encrypted with the key passphrase) and audited as `action` in the caller's transaction (RX-05). Creators queue
    on the CA row, so there is one. The flag says it was created now (not committed yet)."""
    row = await named_authority(session, name)
    if row is None:
        await _authority(session, lock=True)  # creators queue on the CA row: one key of this name
        row = await named_authority(session, name)
    if row is not None:
        return (certificate_from_pem(row.certificate_pem),
                load_private_key(row.private_key_pem.encode(), ctx.settings.key_passphrase), False)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = issue(key.public_key(), ctx.now() - timedelta(minutes=5))
    row = SigningAuthority(name=name, certificate_pem=certificate_to_pem(certificate),
                           private_key_pem=encrypt_private_key(key, ctx.settings.key_passphrase).decode("ascii"),
                           fingerprint=fingerprint_sha256(certificate))
    session.add(row)
    await session.flush()
    await append_audit(session, Actor.system("signing"), action, subject_type="signing_authority",
                       subject_id=row.id, rule_id="RX-05",
                       detail={"fingerprint": row.fingerprint, "not_after": certificate.not_valid_after_utc})
    return certificate, key, True


async def named_authority(session: AsyncSession, name: str) -> SigningAuthority | None:
    """The stored key named `name` (the CA's, the TSA's, the seal's), if there is one."""
    return (await session.execute(select(SigningAuthority).where(SigningAuthority.name == name))).scalar_one_or_none()


async def _authority(session: AsyncSession, *, lock: bool = False) -> SigningAuthority | None:
    query = select(SigningAuthority).where(SigningAuthority.name == CA_NAME)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


def _load(ctx: HospitalContext, row: SigningAuthority) -> HospitalSigning:
    try:
        ca = CertificateAuthority.load(row.certificate_pem.encode(), row.private_key_pem.encode(),
                                       ctx.settings.key_passphrase)
    except InvalidInput as exc:
        raise ConfigurationError("cannot open the hospital CA key with HOSPITAL_KEY_PASSPHRASE: set the passphrase "
                                 "it was created with; the CA is never regenerated (RX-05)") from exc
    if fingerprint_sha256(ca.certificate) != row.fingerprint:
        raise IntegrityFailure("the stored hospital CA certificate does not match its recorded fingerprint")
    return HospitalSigning(ca=ca, fingerprint=row.fingerprint, verifier=SignatureVerifier([ca.certificate]))


async def _create_authority(session: AsyncSession, ctx: HospitalContext) -> HospitalSigning:
    issued = (await session.execute(select(sa.func.count()).select_from(ClinicianCredential))).scalar_one()
    if issued:
        raise IntegrityFailure(f"the hospital CA is missing while {issued} clinician credentials exist: restore the "
                               "signing_authority row from backup; a new CA would orphan every signature")
    now = ctx.now()
    ca = create_root_ca(ctx.settings.hospital_name, now=now - timedelta(minutes=5))
    fingerprint = fingerprint_sha256(ca.certificate)
    row = SigningAuthority(name=CA_NAME, certificate_pem=certificate_to_pem(ca.certificate),
                           private_key_pem=ca.export_private_key(ctx.settings.key_passphrase).decode("ascii"),
                           fingerprint=fingerprint)
    session.add(row)
    await session.flush()
    signing = HospitalSigning(ca=ca, fingerprint=fingerprint, verifier=SignatureVerifier([ca.certificate]))
    await _issue_crl(session, ctx, signing, row)
    await append_audit(session, Actor.system("signing"), "signing.ca_created", subject_type="signing_authority",
                       subject_id=row.id, rule_id="RX-05",
                       detail={"fingerprint": fingerprint, "not_after": ca.certificate.not_valid_after_utc})
    if ctx.settings.is_production:
        log.warning("created the hospital signing CA %s; back up the signing_authority row and the passphrase",
                    fingerprint)
    return signing


async def _issue_crl(session: AsyncSession, ctx: HospitalContext, signing: HospitalSigning,
                     row: SigningAuthority) -> None:
    revoked = (await session.execute(
        select(ClinicianCredential).where(ClinicianCredential.revoked_at.is_not(None))  # type: ignore[union-attr]
    )).scalars().all()
    now = ctx.now()
    row.crl_number += 1
    entries = [Revocation(int(c.serial, 16), c.revoked_at, x509.ReasonFlags(c.revocation_reason or "unspecified"),
                          c.invalid_since)
               for c in revoked if c.revoked_at is not None]
    crl = signing.ca.build_crl(entries, now=now, crl_number=row.crl_number, next_update_in=CRL_VALIDITY)
    row.crl_pem, row.crl_next_update = crl_to_pem(crl), now + CRL_VALIDITY
    row.version += 1
    row.touch()
    await session.flush()


async def current_crl(session: AsyncSession, ctx: HospitalContext) -> x509.CertificateRevocationList:
    """The CA's current CRL; renewed in the caller's transaction when due (the caller commits)."""
    signing = await hospital_signing(session, ctx)
    row = await _authority(session)
    if row is None:
        raise IntegrityFailure("the hospital CA row disappeared")
    if row.crl_next_update is None or row.crl_next_update - ctx.now() < CRL_RENEW_BEFORE:
        row = await _authority(session, lock=True)
        assert row is not None
        if row.crl_next_update is None or row.crl_next_update - ctx.now() < CRL_RENEW_BEFORE:
            await _issue_crl(session, ctx, signing, row)
    cached = signing.crl_cache
    if cached is not None and cached[0] == row.crl_pem:
        return cached[1]
    crl = crl_from_pem(row.crl_pem)
    signing.crl_cache = (row.crl_pem, crl)
    return crl


async def reissue_crl(session: AsyncSession, ctx: HospitalContext) -> None:
    """A new CRL after a revocation, in the caller's transaction (the CA row is locked meanwhile)."""
    signing = await hospital_signing(session, ctx)
    row = await _authority(session, lock=True)
    if row is None:
        raise IntegrityFailure("the hospital CA row disappeared")
    await _issue_crl(session, ctx, signing, row)


async def published_crl(session: AsyncSession, ctx: HospitalContext) -> str:
    """The CRL as PEM for `/.well-known/hospital-crl.pem`; commits a renewal if one was due."""
    crl = await current_crl(session, ctx)
    await session.commit()
    return crl_to_pem(crl)

