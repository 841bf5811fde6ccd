"""A small hospital PKI for the signing tests: a CA, a doctor, a pharmacist, and an unrelated CA."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from hospital.signing.ca import CertificateAuthority, ClinicianIdentity, ClinicianRole, create_root_ca, generate_clinician_key
from hospital.signing.jws import Signer

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
SOON = NOW + timedelta(hours=1)


@dataclass(frozen=True)
class Clinician:
    identity: ClinicianIdentity
    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: Sequence[x509.Certificate]

    @property
    def signer(self) -> Signer:
        return Signer(self.private_key, self.chain)


def admit(
    ca: CertificateAuthority,
    name: str,
    staff_id: str,
    role: ClinicianRole,
    *,
    now: datetime = NOW,
    credential_expires_at: datetime = NOW + timedelta(days=365),
) -> Clinician:
    key = generate_clinician_key()
    identity = ClinicianIdentity(name, staff_id, role)
    certificate = ca.issue_clinician_certificate(
        key.public_key(), identity, now=now, credential_expires_at=credential_expires_at
    )
    return Clinician(identity, key, certificate, [certificate, ca.certificate])


def prescription_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "prescription_number": "RX-20250301-0001",
        "issued_at": "2025-03-01T16:00:00+08:00",
        "prescriber": {"name": "张伟", "staff_id": "D-001"},
        "patient": {"name": "王小明", "age": 34, "sex": "male"},
        "diagnosis": [{"code": "J06.9", "text": "急性上呼吸道感染"}],
        "items": [
            {"drug": "阿莫西林胶囊", "strength": "0.25 g", "dose": "0.5 g", "frequency": "tid", "days": 5, "quantity": 30}
        ],
        "total_amount": "37.50",
    }
    payload.update(changes)
    return payload


@pytest.fixture(scope="session")
def ca() -> CertificateAuthority:
    return create_root_ca("示范互联网医院", now=NOW - timedelta(days=1))


@pytest.fixture(scope="session")
def other_ca() -> CertificateAuthority:
    # Same name on purpose: trust must rest on the key, not on the name.
    return create_root_ca("示范互联网医院", now=NOW - timedelta(days=1))


@pytest.fixture(scope="session")
def doctor(ca: CertificateAuthority) -> Clinician:
    return admit(ca, "张伟", "D-001", ClinicianRole.DOCTOR)


@pytest.fixture(scope="session")
def pharmacist(ca: CertificateAuthority) -> Clinician:
    return admit(ca, "李娜", "P-007", ClinicianRole.PHARMACIST)
