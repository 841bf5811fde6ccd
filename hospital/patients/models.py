"""A patient's real-name record. ID number and phone are sealed at rest, with keyed hashes for equality; the
medical record number (病历号) is the hospital's own."""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Field

from hospital.core.types import Record

__all__ = ["Patient"]


class Patient(Record, table=True):
    user_id: uuid.UUID = Field(foreign_key="user_account.id", unique=True)
    real_name: str
    id_number_sealed: bytes
    id_number_hash: str = Field(unique=True)
    phone_sealed: bytes
    phone_hash: str = Field(unique=True)
    birth_date: date
    sex: str  # "male" | "female", from the ID number's 17th digit
    # 病历号: the hospital's own stable number for the patient, assigned at registration and never reused; the signed
    # prescription names the patient by it and by `id_number_hash` (issue 19), never by the clear ID number
    medical_record_number: str = Field(unique=True)
