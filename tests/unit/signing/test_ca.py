from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from hospital.core.errors import InvalidInput
from hospital.signing.ca import (
    CertificateAuthority,
    ClinicianIdentity,
    ClinicianRole,
    Revocation,
    create_root_ca,
    generate_clinician_key,
    read_clinician_subject,
)
from hospital.signing.pem import certificate_to_pem, encrypt_private_key, load_private_key

from .conftest import NOW, Clinician, admit

pytestmark = pytest.mark.requirement("RX-05")


def test_root_ca_is_a_self_signed_p256_ca_named_after_the_hospital(ca: CertificateAuthority) -> None:
    certificate = ca.certificate
    assert certificate.subject == certificate.issuer
    certificate.verify_directly_issued_by(certificate)
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "示范互联网医院"
    basic = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature


def test_root_ca_validity_is_configurable() -> None:
    authority = create_root_ca("H", now=NOW, valid_for=timedelta(days=30))
    assert authority.certificate.not_valid_after_utc - authority.certificate.not_valid_before_utc == timedelta(days=30)


def test_clinician_certificate_names_the_person_staff_id_hospital_and_role(doctor: Clinician, ca: CertificateAuthority) -> None:
    subject = read_clinician_subject(doctor.certificate)
    assert (subject.name, subject.staff_id, subject.role, subject.hospital) == ("张伟", "D-001", "doctor", "示范互联网医院")
    doctor.certificate.verify_directly_issued_by(ca.certificate)
    usage = doctor.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert not doctor.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_clinician_certificate_ends_with_the_credential(ca: CertificateAuthority) -> None:
    expiry = NOW + timedelta(days=40)
    clinician = admit(ca, "赵医生", "D-002", ClinicianRole.DOCTOR, credential_expires_at=expiry)
    assert clinician.certificate.not_valid_after_utc == expiry


def test_no_certificate_for_an_expired_credential(ca: CertificateAuthority) -> None:
    with pytest.raises(InvalidInput, match="expired"):
        admit(ca, "钱医生", "D-003", ClinicianRole.DOCTOR, credential_expires_at=NOW - timedelta(days=1))


def test_only_p256_keys_get_certificates(ca: CertificateAuthority) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidInput, match="P-256"):
        ca.issue_clinician_certificate(
            rsa_key.public_key(),  # type: ignore[arg-type]
            ClinicianIdentity("孙", "D-4", ClinicianRole.DOCTOR),
            now=NOW,
            credential_expires_at=NOW + timedelta(days=1),
        )


def test_private_key_is_stored_encrypted_and_opens_only_with_the_passphrase() -> None:
    key = generate_clinician_key()
    blob = encrypt_private_key(key, "hospital-config-secret")
    assert b"ENCRYPTED PRIVATE KEY" in blob
    assert load_private_key(blob, "hospital-config-secret").private_numbers() == key.private_numbers()
    with pytest.raises(InvalidInput, match="passphrase"):
        load_private_key(blob, "wrong")


def test_ca_survives_a_round_trip_through_storage(ca: CertificateAuthority) -> None:
    restored = CertificateAuthority.load(
        certificate_to_pem(ca.certificate).encode(), ca.export_private_key(b"s3cret"), b"s3cret"
    )
    assert restored.certificate == ca.certificate
    assert restored.private_key.private_numbers() == ca.private_key.private_numbers()


def test_crl_lists_revoked_serials_with_reason_and_time(ca: CertificateAuthority, doctor: Clinician) -> None:
    revoked_at = NOW - timedelta(minutes=5)
    crl = ca.build_crl(
        [Revocation(doctor.certificate.serial_number, revoked_at, x509.ReasonFlags.key_compromise)],
        now=NOW,
        crl_number=7,
    )
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    entry = crl.get_revoked_certificate_by_serial_number(doctor.certificate.serial_number)
    assert entry is not None and entry.revocation_date_utc == revoked_at
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.key_compromise
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 7
