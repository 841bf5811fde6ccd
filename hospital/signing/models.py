"""The hospital CA and every clinician's signing credential, as stored (RX-05, FACE-03).

The CA lives in the database, not in the data directory, so every app replica signs and verifies with the
same root (DESIGN "Scale"); its private key is stored only as passphrase-encrypted PKCS#8 PEM. A clinician's
private key is encrypted the same way and then sealed with the field key, bound to its credential row.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.types import Record, UTCDateTime

__all__ = ["ClinicianCredential", "SignatureTimestamp", "SigningAuthority"]


class SigningAuthority(Record, table=True):
    """The hospital's root CA (one row, `name` = "hospital-root") and its current revocation list."""

    __tablename__ = "signing_authority"

    name: str = Field(unique=True)
    certificate_pem: str = Field(sa_type=sa.Text)
    private_key_pem: str = Field(sa_type=sa.Text)  # PKCS#8, encrypted with settings.key_passphrase
    fingerprint: str = Field(unique=True)  # SHA-256 of the certificate's DER, hex
    crl_number: int = 0  # grows with every CRL issued (RFC 5280 5.2.3)
    crl_pem: str = Field(default="", sa_type=sa.Text)
    crl_next_update: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1


class ClinicianCredential(Record, table=True):
    """One clinician's EC P-256 key and X.509 certificate. At most one unrevoked credential per user."""

    __tablename__ = "clinician_credential"
    __table_args__ = (
        sa.Index("uq_clinician_credential_active", "user_id", unique=True,
                 sqlite_where=sa.text("revoked_at IS NULL"), postgresql_where=sa.text("revoked_at IS NULL")),
    )

    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    staff_id: uuid.UUID = Field(foreign_key="staff_member.id", index=True)
    role: str  # doctor | pharmacist, as written in the certificate's OU
    certificate_pem: str = Field(sa_type=sa.Text)
    serial: str = Field(unique=True)  # hex
    fingerprint: str = Field(unique=True)  # SHA-256 hex; the JWS `kid`
    not_before: datetime = Field(sa_type=UTCDateTime)
    not_after: datetime = Field(sa_type=UTCDateTime)
    private_key_sealed: bytes  # the encrypted PKCS#8 PEM, sealed with the field key (context names this row)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revocation_reason: str | None = None  # an x509.ReasonFlags value
    invalid_since: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the CRL entry's invalidity date


class SignatureTimestamp(Record, table=True):
    """The RFC 3161 time-stamp token of one signature, found by the SHA-256 of the JWS (trusted time, RX-05)."""

    __tablename__ = "signature_timestamp"

    jws_sha256: str = Field(unique=True)  # hex, of the compact JWS's ASCII bytes
    token: bytes  # the token: CMS ContentInfo (SignedData over a TSTInfo), DER
    gen_time: datetime = Field(sa_type=UTCDateTime)  # the TSA's time, as the token states it
    source: str  # "local" (the hospital's own TSA) or the TSA's URL
