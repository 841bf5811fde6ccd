"""Events of the staff area (STAFF-04): a clinician's current record, filed with the platform."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

import msgspec

from hospital.contracts.base import AwareDatetime, Part, Payload

__all__ = ["EVENTS", "BiometricConsentView", "Credential", "DoctorBusinessChanged", "SigningDeviceRevoked", "StaffRecord",
           "StaffView"]

class BiometricConsentView(msgspec.Struct, kw_only=True):
    """The clinician's own biometric consent (FACE-01): the current text, and what the caller gave, if anything."""

    version: str
    text: str
    text_sha256: str
    given: bool  # given and not withdrawn
    given_version: str | None
    given_at: str | None  # ISO 8601 with offset
    client_address: str | None
    withdrawn_at: str | None


class Credential(Part, kw_only=True):
    """医师资格证, 医师执业证, 药师资格证 … (`kind` as hospital/staff/rules.py names them)."""

    kind: str
    number: str
    valid_until: date | None = None


class StaffView(msgspec.Struct, kw_only=True):
    """A clinician as an administrator sees them (hospital/staff/api.py): never the ID number in clear, the photo
    or the face template."""

    staff_id: str
    user_id: str
    kind: str  # doctor | pharmacist | nurse
    real_name: str
    title: str
    departments: list[str]
    practice_category: str
    practice_scope: str
    practice_institution: str
    clinical_years: int
    credentials: list[Credential]
    suspended: bool
    suspension_reason: str | None
    version: int


class StaffRecord(Payload, kw_only=True):
    """`staff.record` (subject: the staff member; version grows with each change): admission, suspension …"""

    SEALED: ClassVar[tuple[str, ...]] = ("id_number",)  # the resident ID number (REC-03)

    staff_id: str
    kind: str  # doctor | pharmacist | nurse
    name: str
    id_number: str
    sex: str  # male | female (from the ID number)
    birth_date: date
    title: str
    clinical_years: int
    practice_category: str = ""
    practice_scope: str = ""
    practice_institution: str = ""
    departments: list[str] = []
    credentials: list[Credential] = []
    photo_sha256: str | None = None
    suspended: bool = False
    suspension_reason: str | None = None


class DoctorBusinessChanged(Payload, kw_only=True):
    """`staff.business` (subject: the staff member): a clinician's online service closes on suspension and opens
    again on reinstatement (openDoctorBusiness, STAFF-03)."""

    SEALED: ClassVar[tuple[str, ...]] = ("reason",)  # a suspension's reason may name people

    staff_id: str
    user_id: str
    kind: str  # doctor | pharmacist | nurse
    open: bool
    reason: str | None = None
    at: AwareDatetime


class SigningDeviceRevoked(Payload, kw_only=True):
    """`signing.device_revoked` (subject: the signing device; once): a clinician's device certificate was revoked
    (by the clinician, an administrator, or a suspension), RX-05. The platform files it as an update of the
    clinician's record carrying the certificate's state (docs/connector.md); `record` is that record as the
    hospital holds it now (sealed whole: it carries the ID number, REC-03)."""

    SEALED: ClassVar[tuple[str, ...]] = ("record",)

    staff_id: str
    device_id: str
    certificate_serial: str  # hex, as the CRL lists it
    fingerprint: str
    reason: str  # the CRL entry's reason: keyCompromise, cessationOfOperation, privilegeWithdrawn, superseded
    revoked_at: AwareDatetime
    invalid_since: AwareDatetime  # signatures made before verify unless the key was compromised
    active_devices: int  # how many certificates the clinician still signs with
    record: StaffRecord


EVENTS: dict[str, type[Payload]] = {"staff.record": StaffRecord, "staff.business": DoctorBusinessChanged,
                                    "signing.device_revoked": SigningDeviceRevoked}
