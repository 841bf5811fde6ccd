"""Institution events: the licence and its changes (INS-01, SUP-02) → uploadOrganIndicators."""

from __future__ import annotations

from typing import Any

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper, NotReported
from hospital.contracts.institution import DepartmentSet, LicenceRecorded

__all__ = ["MAPPERS"]

ORGAN = "uploadOrganIndicators"


def licence(event: EventView[LicenceRecorded], ctx: MapContext) -> Mapped:
    p = event.data
    record = {
        **ctx.organ(),
        "organName": p.internet_hospital_name or ctx.organ_name,
        "secondName": p.institution_name,
        # We hold one number for the 互联网医院 licence; the platform asks for it and its registration number.
        "internetPermit": p.licence_number,
        "registerNumber": p.licence_number,
        "legalRepresentative": p.legal_representative,
        "address": p.address,
        "authority": p.issuer,
        "beginDate": p.valid_from.isoformat(),
        "endDate": p.valid_until.isoformat(),
        "updateTime": ctx.local_time(event.created_at),
    }
    return Mapped(ORGAN, [record])


DEPARTMENT = "uploadDepartmentInfo"  # ours, non-standard: the SDK has no department record


def department(event: EventView[DepartmentSet], ctx: MapContext) -> Mapped | NotReported:
    """A 诊疗科目 opened (approved) or withdrawn (INS-02). The SDK has no department method: by default the platform
    hears departments inside staff and visit records (subjectCode); `uploadDepartmentInfo` is our own method, sent
    only where a platform asks for it (HOSPITAL_SUPERVISION_DEPARTMENT_UPLOADS=1)."""
    if not ctx.department_uploads:
        return NotReported("the platform takes departments inside staff and visit records (subjectCode), not as "
                           "records of their own (uploadDepartmentInfo, our non-standard method, is off)")
    p = event.data
    record = {**ctx.organ(), "deptCode": p.code, "deptName": p.name, "deptStatus": "1" if p.approved else "0",
              "updateTime": ctx.local_time(event.created_at)}
    return Mapped(DEPARTMENT, [record])


def service_status(event: EventView[Any], ctx: MapContext) -> NotReported:
    return NotReported("the gateway has no record of a service stop (QA-02): the hospital tells the health "
                       "commission itself; visits and prescriptions simply stop arriving")


MAPPERS: dict[str, Mapper] = {
    "institution.licence": licence,
    "institution.department": department,
    "institution.service_stopped": service_status,
    "institution.service_resumed": service_status,
}
