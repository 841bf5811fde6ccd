"""Certificate path checks for clinician signatures: trust, validity in time, key usage, revocation (RX-05).

Verified explicitly with `cryptography` rather than `cryptography.x509.verification`: that API implements the
CA/B Forum web PKI profile (server/client TLS: it wants subjectAltName and extendedKeyUsage on the leaf and
fixes one validation time per verifier), while a clinician signing certificate has neither and every document
is checked at its own time. Explicit checks also let the signature checks be cached per certificate path
(`TrustStore.build_path`) while time and revocation are checked on each call.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from types import MappingProxyType
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID

from hospital.signing.ca import ClinicianSubject, read_clinician_subject
from hospital.signing.errors import ReasonCode, SignatureInvalid
from hospital.signing.pem import fingerprint_sha256

__all__ = ["CertificateFacts", "CertificatePath", "RevocationList", "TrustStore"]

_E = TypeVar("_E", bound=x509.ExtensionType)

# Critical extensions this verifier understands; any other critical one makes the certificate unusable.
_UNDERSTOOD_CRITICAL = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    }
)
# A compromised key can have signed anything at any claimed time, so these revoke regardless of date.
_REVOKES_RETROACTIVELY = frozenset({x509.ReasonFlags.key_compromise, x509.ReasonFlags.ca_compromise})
# Reasons that say the key was *not* compromised: the certificate stops being valid for new signatures, and a
# signature made before the revocation (or the earlier invalidity date) keeps verifying. A suspension
# (privilege_withdrawn) is one: suspending a doctor does not forge what they signed before.
_KEEPS_EARLIER_SIGNATURES = frozenset({
    x509.ReasonFlags.privilege_withdrawn, x509.ReasonFlags.superseded, x509.ReasonFlags.affiliation_changed,
    x509.ReasonFlags.cessation_of_operation,
})


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    """What the checks need from one certificate, read once."""

    certificate: x509.Certificate
    der: bytes
    fingerprint: str
    serial: int
    not_before: datetime
    not_after: datetime
    is_ca: bool
    path_length: int | None
    digital_signature: bool
    key_cert_sign: bool
    crl_sign: bool
    unknown_critical: tuple[str, ...]
    p256_public_key: ec.EllipticCurvePublicKey | None
    subject: ClinicianSubject

    @classmethod
    def of(cls, certificate: x509.Certificate) -> CertificateFacts:
        extensions = certificate.extensions
        basic = _extension(extensions, x509.BasicConstraints)
        usage = _extension(extensions, x509.KeyUsage)
        public_key = certificate.public_key()
        is_p256 = isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1)
        fingerprint = fingerprint_sha256(certificate)
        return cls(
            certificate=certificate,
            der=certificate.public_bytes(serialization.Encoding.DER),
            fingerprint=fingerprint,
            serial=certificate.serial_number,
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            is_ca=bool(basic and basic.ca),
            path_length=basic.path_length if basic else None,
            digital_signature=bool(usage and usage.digital_signature),
            key_cert_sign=bool(usage and usage.key_cert_sign),
            crl_sign=bool(usage and usage.crl_sign),
            unknown_critical=tuple(
                ext.oid.dotted_string for ext in extensions if ext.critical and ext.oid not in _UNDERSTOOD_CRITICAL
            ),
            p256_public_key=public_key if is_p256 else None,  # type: ignore[arg-type]
            subject=read_clinician_subject(certificate, fingerprint=fingerprint),
        )

    def describe(self, position: int) -> str:
        return "signer's certificate" if position == 0 else f"CA certificate {self.certificate.subject.rfc4514_string()}"


@dataclass(frozen=True, slots=True)
class CertificatePath:
    """A signature-checked path, signer's certificate first, trusted root last. Time is checked per use."""

    certificates: tuple[CertificateFacts, ...]

    @property
    def leaf(self) -> CertificateFacts:
        return self.certificates[0]

    @property
    def anchor(self) -> CertificateFacts:
        return self.certificates[-1]

    def check_validity(self, at: datetime) -> None:
        for position, facts in enumerate(self.certificates):
            if at < facts.not_before:
                raise SignatureInvalid(
                    ReasonCode.CERTIFICATE_NOT_YET_VALID,
                    f"{facts.describe(position)} is valid only from {facts.not_before.isoformat()}, "
                    f"checked at {at.isoformat()}",
                )
            if at > facts.not_after:
                raise SignatureInvalid(
                    ReasonCode.CERTIFICATE_EXPIRED,
                    f"{facts.describe(position)} expired at {facts.not_after.isoformat()}, checked at {at.isoformat()}",
                )


class TrustStore:
    """The CA certificates a verifier trusts (normally just the hospital's root)."""

    def __init__(self, roots: Iterable[x509.Certificate]) -> None:
        self.roots: tuple[CertificateFacts, ...] = tuple(CertificateFacts.of(root) for root in roots)
        self._by_der = {root.der: root for root in self.roots}

    def build_path(self, chain: Sequence[CertificateFacts]) -> CertificatePath:
        """Check issuer signatures from the leaf up to a trusted root; raise SignatureInvalid otherwise."""
        if not chain:
            raise SignatureInvalid(ReasonCode.MALFORMED, "no certificate chain (x5c) in the signature")
        leaf = chain[0]
        _require_signing_certificate(leaf)
        path = [leaf]
        for child, issuer in pairwise(chain):
            if issuer.der in self._by_der:  # a trusted root may travel in x5c; stop there
                break
            _require_issued_by(child, issuer)
            path.append(issuer)
        top = path[-1]
        anchor = self._by_der.get(top.der) or self._trusted_issuer_of(top)
        if anchor is not top:
            path.append(anchor)
        for position, issuer in enumerate(path[1:]):  # each CA sees `position` intermediates below it
            _require_ca(issuer, intermediates_below=position)
        return CertificatePath(tuple(path))

    def _trusted_issuer_of(self, child: CertificateFacts) -> CertificateFacts:
        issuer_name = child.certificate.issuer
        for root in self.roots:
            if root.certificate.subject == issuer_name:
                try:
                    _require_issued_by(child, root)
                except SignatureInvalid:
                    continue  # same name, other key: keep looking, then refuse below
                return root
        raise SignatureInvalid(
            ReasonCode.CHAIN_UNTRUSTED,
            f"certificate of {child.certificate.subject.rfc4514_string()} is not issued by a trusted CA "
            f"(its issuer is {issuer_name.rfc4514_string()})",
        )


@dataclass(frozen=True, slots=True)
class RevocationList:
    """Revoked serials ready for lookup: from a CRL whose signature was checked, or a plain set of serials."""

    issuer_fingerprint: str | None  # None: bare serials, applied to whatever issued the signer
    revoked: Mapping[int, tuple[datetime | None, x509.ReasonFlags | None]]
    invalid_since: Mapping[int, datetime] = field(default_factory=dict)  # the CRL entries' invalidity dates

    @classmethod
    def from_crl(cls, crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> RevocationList:
        """Index a CRL after checking it is signed by `issuer`; SignatureInvalid(crl_invalid) if not."""
        if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            raise SignatureInvalid(
                ReasonCode.CRL_INVALID,
                f"the revocation list is not signed by {issuer.subject.rfc4514_string()}",
            )
        revoked: dict[int, tuple[datetime | None, x509.ReasonFlags | None]] = {}
        invalid_since: dict[int, datetime] = {}
        for entry in crl:
            reason = _extension(entry.extensions, x509.CRLReason)
            revoked[entry.serial_number] = (entry.revocation_date_utc, reason.reason if reason else None)
            invalidity = _extension(entry.extensions, x509.InvalidityDate)
            if invalidity is not None:
                invalid_since[entry.serial_number] = invalidity.invalidity_date_utc
        return cls(issuer_fingerprint=fingerprint_sha256(issuer), revoked=revoked,
                   invalid_since=MappingProxyType(invalid_since))

    @classmethod
    def from_serials(cls, serials: Collection[int]) -> RevocationList:
        return cls(issuer_fingerprint=None, revoked=dict.fromkeys(serials, (None, None)))

    def check(self, path: CertificatePath, at: datetime, *, signed_at: datetime | None = None) -> None:
        """Raise certificate_revoked if a certificate of the path was revoked at or before `at`.

        `signed_at`, when known (a timestamp token's time, else the time the signed payload states), decides
        instead of `at` for a revocation whose reason says the key was not compromised (`_KEEPS_EARLIER_SIGNATURES`):
        a signature made before the revocation date, or the entry's earlier invalidity date, stays valid; one
        made at or after it is refused. Compromise and unstated reasons keep the strict rule.
        """
        certificates = path.certificates
        if self.issuer_fingerprint is not None and certificates[1].fingerprint != self.issuer_fingerprint:
            raise SignatureInvalid(
                ReasonCode.CRL_INVALID, "the revocation list is not from the CA that issued the signer's certificate"
            )
        for child, issuer in pairwise(certificates):
            if self.issuer_fingerprint is not None and issuer.fingerprint != self.issuer_fingerprint:
                continue
            entry = self.revoked.get(child.serial)
            if entry is None:
                continue
            revoked_at, reason = entry
            if revoked_at is not None and signed_at is not None and reason in _KEEPS_EARLIER_SIGNATURES:
                invalid_since = self.invalid_since.get(child.serial)
                cutoff = min(revoked_at, invalid_since) if invalid_since is not None else revoked_at
                if signed_at < cutoff:
                    continue  # made while the certificate was good; the reason says the key is not compromised
                raise SignatureInvalid(
                    ReasonCode.CERTIFICATE_REVOKED,
                    f"certificate serial {child.serial:x} of {child.certificate.subject.rfc4514_string()} was "
                    f"revoked ({reason.value}) with effect from {cutoff.isoformat()}; the signature was made at "
                    f"{signed_at.isoformat()}",
                )
            if revoked_at is None or revoked_at <= at or reason in _REVOKES_RETROACTIVELY:
                when = f" at {revoked_at.isoformat()}" if revoked_at else ""
                because = f" ({reason.value})" if reason else ""
                raise SignatureInvalid(
                    ReasonCode.CERTIFICATE_REVOKED,
                    f"certificate serial {child.serial:x} of {child.certificate.subject.rfc4514_string()} "
                    f"was revoked{when}{because}",
                )


def _require_signing_certificate(leaf: CertificateFacts) -> None:
    if leaf.p256_public_key is None:
        raise SignatureInvalid(ReasonCode.CERTIFICATE_NOT_FOR_SIGNING, "signer's key is not EC P-256")
    if leaf.is_ca or not leaf.digital_signature:
        raise SignatureInvalid(
            ReasonCode.CERTIFICATE_NOT_FOR_SIGNING,
            "signer's certificate does not allow digital signatures (keyUsage) or is a CA certificate",
        )
    if leaf.unknown_critical:
        raise SignatureInvalid(
            ReasonCode.CERTIFICATE_NOT_FOR_SIGNING,
            f"signer's certificate has unknown critical extensions {', '.join(leaf.unknown_critical)}",
        )


def _require_ca(issuer: CertificateFacts, *, intermediates_below: int) -> None:
    if not (issuer.is_ca and issuer.key_cert_sign) or issuer.unknown_critical:
        raise SignatureInvalid(
            ReasonCode.CHAIN_UNTRUSTED,
            f"{issuer.certificate.subject.rfc4514_string()} is not a CA allowed to sign certificates",
        )
    if issuer.path_length is not None and intermediates_below > issuer.path_length:
        raise SignatureInvalid(ReasonCode.CHAIN_UNTRUSTED, "certificate chain is longer than its CA allows")


def _require_issued_by(child: CertificateFacts, issuer: CertificateFacts) -> None:
    try:
        child.certificate.verify_directly_issued_by(issuer.certificate)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise SignatureInvalid(
            ReasonCode.CHAIN_UNTRUSTED,
            f"certificate of {child.certificate.subject.rfc4514_string()} is not signed by "
            f"{issuer.certificate.subject.rfc4514_string()}",
        ) from exc


def _extension(extensions: x509.Extensions, kind: type[_E]) -> _E | None:
    try:
        return extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
