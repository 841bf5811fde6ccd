"""Staff events: a clinician's current record (STAFF-04) → uploadDoctorIndicators."""

from __future__ import annotations

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper
from connectors.supervision.mapping.codes import WORK_TYPE, sex_code, subject_code
from hospital.contracts.staff import Credential, StaffRecord

__all__ = ["MAPPERS", "STAFF_METHOD"]

STAFF_METHOD = "uploadDoctorIndicators"
QUALIFICATION = {"doctor": "physician_qualification", "pharmacist": "pharmacist_qualification",
                 "nurse": "nurse_qualification"}
PRACTICE = {"doctor": "physician_practice", "nurse": "nurse_practice"}
# Where a pharmacist is filed when no department is assigned (药剂科); doctors and nurses are filed under theirs.
PHARMACY = "药剂科"


def _credential(credentials: list[Credential], kind: str | None) -> str:
    return next((c.number for c in credentials if c.kind == kind), "")


def staff_record(event: EventView[StaffRecord], ctx: MapContext) -> Mapped:
    p = event.data
    qualification = _credential(p.credentials, QUALIFICATION.get(p.kind))
    # STAFF-02 admits a pharmacist on the qualification alone; the platform's doctorWorkCode is required, so a
    # pharmacist is filed with the qualification number there too (docs/connector.md, "Open questions").
    practice = _credential(p.credentials, PRACTICE.get(p.kind)) or (qualification if p.kind == "pharmacist" else "")
    first = p.departments[0] if p.departments else ""
    record = {
        **ctx.organ(),
        "doctorID": p.staff_id,
        "doctorName": p.name,
        "doctorCertID": p.id_number,
        "sex": sex_code(p.sex),
        "birthday": p.birth_date.isoformat(),
        "doctorTile": p.title,
        "subjectCode": subject_code(first) if p.kind == "doctor" else "",
        "subjectName": ctx.department_name(subject_code(first)) if first else (PHARMACY if p.kind == "pharmacist" else ""),
        "doctorCertCode": qualification,
        "doctorWorkCode": practice,
        "doctorUnitName": p.practice_institution or ctx.organ_name,
        "doctorWorkType": WORK_TYPE.get(p.kind, ""),
        "doctorYears": p.clinical_years,
        "updateTime": ctx.local_time(event.created_at),
    }
    return Mapped(STAFF_METHOD, [record])


MAPPERS: dict[str, Mapper] = {"staff.record": staff_record}
