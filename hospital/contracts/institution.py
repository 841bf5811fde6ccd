"""Events of the institution area (INS-01, INS-02, QA-02): the licence, departments, a service stop."""

from __future__ import annotations

from datetime import date

from hospital.contracts.base import AwareDatetime, Payload

__all__ = ["EVENTS", "DepartmentSet", "LicenceRecorded", "ServiceResumed", "ServiceStopped"]


class LicenceRecorded(Payload, kw_only=True):
    """`institution.licence` (subject: the licence number): the licence now in force."""

    licence_number: str
    institution_name: str
    internet_hospital_name: str  # the approved second name (第二名称)
    issuer: str
    valid_from: date
    valid_until: date
    service_modes: list[str] = []
    address: str = ""
    legal_representative: str = ""


class DepartmentSet(Payload, kw_only=True):
    """`institution.department` (subject: the department code): a 诊疗科目 added, renamed, approved or not."""

    code: str
    name: str
    approved: bool


class ServiceStopped(Payload, kw_only=True):
    """`institution.service_stopped` (QA-02)."""

    reason: str
    stopped_at: AwareDatetime


class ServiceResumed(Payload, kw_only=True):
    """`institution.service_resumed` (QA-02)."""

    resumed_at: AwareDatetime


EVENTS: dict[str, type[Payload]] = {
    "institution.licence": LicenceRecorded,
    "institution.department": DepartmentSet,
    "institution.service_stopped": ServiceStopped,
    "institution.service_resumed": ServiceResumed,
}
