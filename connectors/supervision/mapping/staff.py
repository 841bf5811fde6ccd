"""Staff events: a clinician's current record (STAFF-04) → uploadDoctorIndicators; a revoked signing device
(RX-05) → the same record again, carrying the certificate's state (the SDK has no certificate method;
docs/connector.md, "Signing certificates")."""

from __future__ import annotations

from typing import Any

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper
from connectors.supervision.mapping.codes import WORK_TYPE, sex_code, subject_code
from hospital.contracts.staff import Credential, SigningDeviceRevoked, StaffRecord

__all__ = ["CERTIFICATE_REVOKED", "MAPPERS", "STAFF_METHOD"]

STAFF_METHOD = "uploadDoctorIndicators"
QUALIFICATION = {"doctor": "physician_qualification", "pharmacist": "pharmacist_qualification",
                 "nurse": "nurse_qualification"}
PRACTICE = {"doctor": "physician_practice", "nurse": "nurse_practice"}
# Where a pharmacist is filed when no department is assigned (药剂科); doctors and nurses are filed under theirs.
PHARMACY = "药剂科"
CERTIFICATE_REVOKED = "2"  # caCertStatus (ours): 1 valid, 2 revoked


def _credential(credentials: list[Credential], kind: str | None) -> str:
    return next((c.number for c in credentials if c.kind == kind), "")


def staff_record(event: EventView[StaffRecord], ctx: MapContext) -> Mapped:
    return Mapped(STAFF_METHOD, [_doctor_record(event.data, ctx, event.created_at)])


def device_revoked(event: EventView[SigningDeviceRevoked], ctx: MapContext) -> Mapped:
    """A new version of the clinician's record (updateTime = the revocation) naming the revoked certificate, why,
    since when signatures are void, and how many certificates the clinician still signs with (RX-05)."""
    p = event.data
    record = {**_doctor_record(p.record, ctx, p.revoked_at),
              "caCertSN": p.certificate_serial, "caCertStatus": CERTIFICATE_REVOKED,
              "caRevokeReason": p.reason, "caRevokeDate": ctx.local_time(p.revoked_at),
              "caInvalidDate": ctx.local_time(p.invalid_since), "caActiveCount": p.active_devices}
    return Mapped(STAFF_METHOD, [record])


def _doctor_record(p: StaffRecord, ctx: MapContext, at: object) -> dict[str, Any]:
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
        "updateTime": ctx.local_time(at),
    }
    return record


MAPPERS: dict[str, Mapper] = {"staff.record": staff_record, "signing.device_revoked": device_revoked}
