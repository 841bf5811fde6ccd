"""Serialised forms: PEM certificates and CRLs, passphrase-encrypted PKCS#8 private keys, fingerprints."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hospital.core.errors import InvalidInput

__all__ = [
    "certificate_from_pem",
    "certificate_to_pem",
    "crl_from_pem",
    "crl_to_pem",
    "encrypt_private_key",
    "fingerprint_sha256",
    "load_private_key",
]


def encrypt_private_key(private_key: ec.EllipticCurvePrivateKey, passphrase: bytes | str) -> bytes:
    """PKCS#8 PEM encrypted with the passphrase (the blob the hospital stores; FACE-03 unlocks its use)."""
    secret = _passphrase_bytes(passphrase)
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret),
    )


def load_private_key(pem: bytes, passphrase: bytes | str) -> ec.EllipticCurvePrivateKey:
    """Decrypt a stored key; a wrong passphrase or a non-P-256 key is InvalidInput."""
    try:
        key = serialization.load_pem_private_key(pem, password=_passphrase_bytes(passphrase))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("cannot decrypt the private key: wrong passphrase or damaged key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidInput("the stored private key is not an EC P-256 key")
    return key


def fingerprint_sha256(certificate: x509.Certificate) -> str:
    """Hex SHA-256 of the certificate's DER; also its JWS `kid`."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def certificate_to_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def certificate_from_pem(pem: bytes | str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii") if isinstance(pem, str) else pem)
    except ValueError as exc:  # UnicodeEncodeError included
        raise InvalidInput("not a PEM certificate") from exc


def crl_to_pem(crl: x509.CertificateRevocationList) -> str:
    return crl.public_bytes(serialization.Encoding.PEM).decode("ascii")


def crl_from_pem(pem: bytes | str) -> x509.CertificateRevocationList:
    try:
        return x509.load_pem_x509_crl(pem.encode("ascii") if isinstance(pem, str) else pem)
    except ValueError as exc:  # UnicodeEncodeError included
        raise InvalidInput("not a PEM certificate revocation list") from exc


def _passphrase_bytes(passphrase: bytes | str) -> bytes:
    secret = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
    if not secret:
        raise InvalidInput("a non-empty passphrase is required to protect a private key")
    return secret
