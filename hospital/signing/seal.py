"""The hospital's document seal (电子处方专用章): the key and certificate that seal printed prescriptions (PAdES).

A clinician signs a prescription with the device key only they control (RX-05); the paper form a pharmacy
receives is sealed by the hospital itself, as an institution, so that a PDF reader shows it as signed and
unaltered. The seal key is created beside the CA on first use and stored like the TSA's (row `hospital-seal` of
`signing_authority`, PKCS#8 encrypted with the key passphrase); its certificate is issued by the hospital CA,
names the hospital (O) and is for signatures only (digitalSignature, nonRepudiation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.signing.authority import hospital_signing, key_beside_ca
from hospital.signing.ca import CertificateAuthority

__all__ = ["SEAL_NAME", "HospitalSeal", "hospital_seal", "issue_seal_certificate"]

SEAL_NAME = "hospital-seal"


@dataclass(frozen=True, slots=True)
class HospitalSeal:
    """The seal's certificate and key, and the CA certificate that issued it (the chain a reader needs)."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey
    ca_certificate: x509.Certificate


def issue_seal_certificate(ca: CertificateAuthority, public_key: ec.EllipticCurvePublicKey, *, now: datetime,
                           valid_for: timedelta = timedelta(days=3 * 365)) -> x509.Certificate:
    """The seal's certificate: the hospital as subject (CN "<hospital> 电子处方专用章"), for signing documents only;
    it never outlives the CA."""
    ca_key_id = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, f"{ca.hospital_name} 电子处方专用章"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ca.hospital_name),
    ])
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(min(now + valid_for, ca.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), critical=False)
        .sign(ca.private_key, hashes.SHA256())
    )


async def hospital_seal(session: AsyncSession, ctx: HospitalContext) -> HospitalSeal:
    """The hospital's seal: cached, else loaded, else created in the caller's transaction (audited)."""
    signing = await hospital_signing(session, ctx)
    if isinstance(signing.seal, HospitalSeal):
        return signing.seal
    certificate, key, created = await key_beside_ca(
        session, ctx, SEAL_NAME, lambda public_key, now: issue_seal_certificate(signing.ca, public_key, now=now),
        "signing.seal_created")
    seal = HospitalSeal(certificate, key, signing.ca.certificate)
    if not created:  # cached once loaded from a committed row
        signing.seal = seal
    return seal
