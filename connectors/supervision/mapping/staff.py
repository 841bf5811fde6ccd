"""Staff events: a clinician's current record (STAFF-04) → uploadDoctorIndicators."""

from __future__ import annotations

from typing import Any

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper
from connectors.supervision.mapping.codes import WORK_TYPE, sex_code, subject_code

__all__ = ["MAPPERS", "STAFF_METHOD"]

STAFF_METHOD = "uploadDoctorIndicators"
QUALIFICATION = {"doctor": "physician_qualification", "pharmacist": "pharmacist_qualification",
                 "nurse": "nurse_qualification"}
PRACTICE = {"doctor": "physician_practice", "nurse": "nurse_practice"}
# Where a pharmacist is filed when no department is assigned (药剂科); doctors and nurses are filed under theirs.
PHARMACY = "药剂科"


def _credential(credentials: list[dict[str, Any]], kind: str | None) -> str:
    return next((str(c.get("number") or "") for c in credentials if c.get("kind") == kind), "")


def staff_record(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    kind = str(event.require("kind"))
    staff_id = str(event.require("staff_id"))
    id_number = p.get("id_number") or ctx.staff(staff_id=staff_id).id_number
    credentials = list(p.get("credentials") or [])
    qualification = _credential(credentials, QUALIFICATION.get(kind))
    # STAFF-02 admits a pharmacist on the qualification alone; the platform's doctorWorkCode is required, so a
    # pharmacist is filed with the qualification number there too (docs/connector.md, "Open questions").
    practice = _credential(credentials, PRACTICE.get(kind)) or (qualification if kind == "pharmacist" else "")
    departments = [str(d) for d in p.get("departments") or []]
    first = departments[0] if departments else ""
    record = {
        **ctx.organ(),
        "doctorID": staff_id,
        "doctorName": p.get("name", ""),
        "doctorCertID": id_number,
        "sex": sex_code(p.get("sex")),
        "birthday": p.get("birth_date", ""),
        "doctorTile": p.get("title", ""),
        "subjectCode": subject_code(first) if kind == "doctor" else "",
        "subjectName": ctx.department_name(subject_code(first)) if first else (PHARMACY if kind == "pharmacist" else ""),
        "doctorCertCode": qualification,
        "doctorWorkCode": practice,
        "doctorUnitName": p.get("practice_institution") or ctx.organ_name,
        "doctorWorkType": WORK_TYPE.get(kind, ""),
        "doctorYears": p.get("clinical_years", ""),
        "updateTime": ctx.local_time(event.created_at),
    }
    return Mapped(STAFF_METHOD, [record])


MAPPERS: dict[str, Mapper] = {"staff.record": staff_record}
