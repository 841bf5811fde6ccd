"""The licence (医疗机构执业许可证) and the departments approved on it."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.types import Record

__all__ = ["Department", "Licence"]


class Licence(Record, table=True):
    """The hospital's licence. The newest row is the one in force; older rows are its history."""

    licence_number: str = Field(index=True)
    institution_name: str
    internet_hospital_name: str  # the approved second name (第二名称) shown prominently
    issuer: str
    valid_from: date
    valid_until: date
    service_modes: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # must include 互联网诊疗
    address: str = ""
    legal_representative: str = ""


class Department(Record, table=True):
    """A 诊疗科目 from the national catalogue; `approved` says whether the licence lists it (INS-02)."""

    code: str = Field(unique=True)
    name: str
    approved: bool = True
