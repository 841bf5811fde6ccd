"""Admitted clinicians and their credentials. The ID number is sealed; the photo lives in the blob store."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.types import Record

__all__ = ["StaffMember"]


class StaffMember(Record, table=True):
    __tablename__ = "staff_member"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", unique=True)
    kind: str = Field(index=True)  # doctor | pharmacist | nurse
    real_name: str
    sex: str
    birth_date: date
    id_number_sealed: bytes
    id_number_hash: str = Field(unique=True)
    title: str
    practice_category: str = ""
    practice_scope: str = ""
    practice_institution: str = ""
    clinical_years: int
    departments: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # [{"kind", "number", "valid_until"}]: 医师资格证, 医师执业证, 药师资格证, 护士资格证/执业注册证
    credentials: list[dict[str, str | None]] = Field(default_factory=list, sa_type=sa.JSON)
    photo_sha256: str | None = None
    # 抗菌药物处方权 by title at admission (staff.rules.antimicrobial_grade_for): none | unrestricted | restricted | special
    antimicrobial_grade: str = "none"
    suspended: bool = False
    suspension_reason: str | None = None
    version: int = 1
