"""The hospital CA and every clinician's signing credential, as stored (RX-05, FACE-03).

The CA lives in the database, not in the data directory, so every app replica signs and verifies with the
same root (DESIGN "Scale"); its private key is stored only as passphrase-encrypted PKCS#8 PEM. A clinician's
private key is never here: it stays on their signing device, and the hospital keeps only the certificate it
issued to that device (电子签名法 第十三条; migration 0016 revoked and deleted the keys the server once held).
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
    """The certificate the hospital CA issued to one signing device of a clinician (several devices each)."""

    __tablename__ = "clinician_credential"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    staff_id: uuid.UUID = Field(foreign_key="staff_member.id", index=True)
    role: str  # doctor | pharmacist, as written in the certificate's OU
    certificate_pem: str = Field(sa_type=sa.Text)
    serial: str = Field(unique=True)  # hex
    fingerprint: str = Field(unique=True)  # SHA-256 hex; the JWS `kid`
    not_before: datetime = Field(sa_type=UTCDateTime)
    not_after: datetime = Field(sa_type=UTCDateTime)
    device_name: str | None = None  # what the clinician calls the device ("诊室电脑"); None for the old server keys
    public_key_sha256: str | None = Field(default=None, unique=True)  # of the SPKI DER: one device, one key
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
