"""The licence (医疗机构执业许可证) and the departments approved on it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.types import Record, UTCDateTime

__all__ = ["Department", "Licence", "ServiceStop"]


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
    # PD 8(二): the 正高 and 副高 physicians of this speciality registered at the physical institution, declared
    # when the department was opened through the API: [{"name", "title", "practice_number"}]
    senior_physicians: list[dict[str, Any]] | None = Field(default=None, sa_type=sa.JSON)


class ServiceStop(Record, table=True):
    """The hospital stopped clinical service (QA-02): staff or facilities no longer meet requirements."""

    __tablename__ = "service_stop"

    reason: str
    reason_code: str | None = None  # service_stop_reasons.csv; a whole-service stop needs one
    stopped_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    # A second administrator confirms a whole-service stop; until then it is requested, not in force
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirmed_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    resumed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resumed_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
