"""Clinicians' electronic signatures: the hospital CA, canonical JSON, ES256 JWS, export bundles (RX-05, RX-06, FACE-03).

The library modules re-exported here are pure (no database, no HTTP). `device.py` is what a clinician's device
holds (its key never reaches the hospital: 电子签名法 第十三条). `models.py` and `service.py` keep the CA and the
certificates it issued to clinicians' devices; services ask the clinician's device to sign the payload they
prepared and only verify it (`require_device_signature`), after a fresh face verification (FACE-03); `api.py`
registers and revokes devices and publishes the keys.
"""

from __future__ import annotations

from hospital.signing.ca import (
    CertificateAuthority,
    ClinicianIdentity,
    ClinicianRole,
    ClinicianSubject,
    Revocation,
    create_root_ca,
    generate_clinician_key,
)
from hospital.signing.canonical import canonical_json, payload_sha256
from hospital.signing.chain import RevocationList, TrustStore
from hospital.signing.device import DeviceKey
from hospital.signing.errors import ReasonCode, SignatureInvalid
from hospital.signing.export import ReviewDecision, build_export_bundle, review_payload
from hospital.signing.jwks import jwks_document
from hospital.signing.jws import SignatureVerifier, Signer, VerifiedSignature, sign, verify
from hospital.signing.pem import encrypt_private_key, load_private_key
from hospital.signing.verify_export import ExportReport, Problem, verify_export

__all__ = [
    "CertificateAuthority",
    "ClinicianIdentity",
    "ClinicianRole",
    "ClinicianSubject",
    "DeviceKey",
    "ExportReport",
    "Problem",
    "ReasonCode",
    "ReviewDecision",
    "Revocation",
    "RevocationList",
    "SignatureInvalid",
    "SignatureVerifier",
    "Signer",
    "TrustStore",
    "VerifiedSignature",
    "build_export_bundle",
    "canonical_json",
    "create_root_ca",
    "encrypt_private_key",
    "generate_clinician_key",
    "jwks_document",
    "load_private_key",
    "payload_sha256",
    "review_payload",
    "sign",
    "verify",
    "verify_export",
]
