"""The hospital's own certificate authority: root, clinician certificates, revocation lists (RX-05, FACE-03).

Each clinician registers signing devices (device.py); each device's EC P-256 key gets a certificate naming
them (CN), their staff id (serialNumber), the hospital (O), their role (OU doctor/pharmacist) and the device
(subjectAltName URI). The role in the certificate is what lets a pharmacy check offline that a prescription
was signed by a doctor and reviewed by a pharmacist (RX-06).
Only the CA's own private key is stored (passphrase-encrypted PKCS#8 PEM, pem.py); clinicians' keys never leave
their devices.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hospital.core.errors import InvalidInput
from hospital.signing.pem import certificate_from_pem, encrypt_private_key, fingerprint_sha256, load_private_key

__all__ = [
    "CertificateAuthority",
    "ClinicianIdentity",
    "ClinicianRole",
    "ClinicianSubject",
    "Revocation",
    "create_root_ca",
    "generate_clinician_key",
    "read_clinician_subject",
]

_SIGNATURE_HASH = hashes.SHA256()
DEVICE_URN = "urn:hospital:signing-device:"


class ClinicianRole(enum.StrEnum):
    """The role written in the certificate's OU; RX-06 needs a doctor to sign and a pharmacist to review."""

    DOCTOR = "doctor"
    PHARMACIST = "pharmacist"


@dataclass(frozen=True, slots=True)
class ClinicianIdentity:
    """Who a clinician certificate is issued to."""

    name: str
    staff_id: str
    role: ClinicianRole


@dataclass(frozen=True, slots=True)
class ClinicianSubject:
    """What a certificate says about its holder, read back for display and for role checks."""

    name: str
    staff_id: str
    role: str
    hospital: str
    certificate_serial: int
    fingerprint: str

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "staff_id": self.staff_id,
            "role": self.role,
            "hospital": self.hospital,
            "certificate_serial": format(self.certificate_serial, "x"),
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True, slots=True)
class Revocation:
    """One revoked certificate for the CRL."""

    serial_number: int
    revoked_at: datetime
    reason: x509.ReasonFlags = x509.ReasonFlags.unspecified
    invalidity_date: datetime | None = None  # RFC 5280 5.3.2: when the certificate became invalid, if earlier


@dataclass(frozen=True)
class CertificateAuthority:
    """The hospital's root CA: its certificate and private key. Build with `create_root_ca` or `load`."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey

    @property
    def hospital_name(self) -> str:
        return _first_attribute(self.certificate.subject, NameOID.ORGANIZATION_NAME)

    @classmethod
    def load(cls, certificate_pem: bytes, private_key_pem: bytes, passphrase: bytes | str) -> CertificateAuthority:
        """Rebuild the CA from its stored certificate and encrypted key."""
        return cls(certificate_from_pem(certificate_pem), load_private_key(private_key_pem, passphrase))

    def export_private_key(self, passphrase: bytes | str) -> bytes:
        return encrypt_private_key(self.private_key, passphrase)

    def issue_clinician_certificate(
        self,
        public_key: ec.EllipticCurvePublicKey,
        identity: ClinicianIdentity,
        *,
        now: datetime,
        credential_expires_at: datetime,
        valid_for: timedelta = timedelta(days=365),
        device_id: str | None = None,
    ) -> x509.Certificate:
        """Issue a signing certificate; it never outlives the clinician's credential nor the CA. `device_id` is
        written as the URI urn:hospital:signing-device:<id> in subjectAltName: the certificate names the device."""
        _require_p256(public_key)
        _require_aware(now, credential_expires_at)
        not_after = min(now + valid_for, credential_expires_at, self.certificate.not_valid_after_utc)
        if not_after <= now:
            raise InvalidInput(
                f"cannot issue a certificate to {identity.staff_id}: credential or CA expired at {not_after.isoformat()}"
            )
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, identity.name),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, identity.staff_id),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, str(identity.role)),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.hospital_name),
            ]
        )
        ca_key_id = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), critical=False
            )
        )
        if device_id is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(f"{DEVICE_URN}{device_id}")]), critical=False)
        return builder.sign(self.private_key, _SIGNATURE_HASH)

    def issue_tsa_certificate(
        self, public_key: ec.EllipticCurvePublicKey, *, now: datetime, valid_for: timedelta = timedelta(days=3650)
    ) -> x509.Certificate:
        """The certificate of the hospital's small time-stamping authority (RFC 3161 2.3: the critical extended key
        usage id-kp-timeStamping only); it never outlives the CA."""
        _require_p256(public_key)
        _require_aware(now)
        ca_key_id = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        subject = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, f"{self.hospital_name} Time-Stamping Authority"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.hospital_name),
        ])
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(min(now + valid_for, self.certificate.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), critical=False)
            .sign(self.private_key, _SIGNATURE_HASH)
        )

    def build_crl(
        self,
        revocations: Iterable[Revocation],
        *,
        now: datetime,
        crl_number: int,
        next_update_in: timedelta = timedelta(days=7),
    ) -> x509.CertificateRevocationList:
        """A CRL signed by this CA; `crl_number` must grow with each CRL issued (RFC 5280 5.2.3)."""
        _require_aware(now)
        ca_key_id = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now)
            .next_update(now + next_update_in)
            .add_extension(x509.CRLNumber(crl_number), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), critical=False
            )
        )
        for revocation in revocations:
            _require_aware(revocation.revoked_at)
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(revocation.serial_number)
                .revocation_date(revocation.revoked_at)
            )
            # RFC 5280 5.3.1: the reason code "unspecified" should be left out rather than written.
            if revocation.reason is not x509.ReasonFlags.unspecified:
                entry = entry.add_extension(x509.CRLReason(revocation.reason), critical=False)
            if revocation.invalidity_date is not None:
                _require_aware(revocation.invalidity_date)
                entry = entry.add_extension(x509.InvalidityDate(revocation.invalidity_date), critical=False)
            builder = builder.add_revoked_certificate(entry.build())
        return builder.sign(self.private_key, _SIGNATURE_HASH)


def create_root_ca(
    hospital_name: str,
    *,
    now: datetime,
    valid_for: timedelta = timedelta(days=3650),
    country: str = "CN",
) -> CertificateAuthority:
    """A new self-signed EC P-256 root CA for the hospital."""
    _require_aware(now)
    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, hospital_name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{hospital_name} Clinician Signing CA"),
        ]
    )
    public_key = private_key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(private_key, _SIGNATURE_HASH)
    )
    return CertificateAuthority(certificate=certificate, private_key=private_key)


def generate_clinician_key() -> ec.EllipticCurvePrivateKey:
    """A fresh EC P-256 key pair for one clinician."""
    return ec.generate_private_key(ec.SECP256R1())


def read_clinician_subject(certificate: x509.Certificate, *, fingerprint: str | None = None) -> ClinicianSubject:
    """Name, staff id, role and hospital as written in a clinician certificate ("" when absent)."""
    subject = certificate.subject
    return ClinicianSubject(
        name=_first_attribute(subject, NameOID.COMMON_NAME),
        staff_id=_first_attribute(subject, NameOID.SERIAL_NUMBER),
        role=_first_attribute(subject, NameOID.ORGANIZATIONAL_UNIT_NAME),
        hospital=_first_attribute(subject, NameOID.ORGANIZATION_NAME),
        certificate_serial=certificate.serial_number,
        fingerprint=fingerprint or fingerprint_sha256(certificate),
    )


def _first_attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    attributes = name.get_attributes_for_oid(oid)
    if not attributes:
        return ""
    value = attributes[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _require_p256(public_key: object) -> None:
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, ec.SECP256R1):
        raise InvalidInput("clinician keys must be EC P-256 (ES256)")


def _require_aware(*moments: datetime) -> None:
    if any(moment.tzinfo is None for moment in moments):
        raise InvalidInput("times must be timezone-aware (UTC)")
