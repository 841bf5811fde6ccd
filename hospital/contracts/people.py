"""Wire schemas of identity and patients: the caller's own profile (`GET /api/me`) with a patient's real-name
record, and a registration's answer (PAT-01). Field for field what the handlers always answered."""

from __future__ import annotations

import msgspec

__all__ = ["PatientRecord", "Profile", "Registered"]


class PatientRecord(msgspec.Struct, kw_only=True):
    """A patient's own real-name record: ID number and phone masked."""

    patient_id: str
    real_name: str
    id_number: str
    phone: str
    birth_date: str  # ISO date
    sex: str  # male | female
    age: int


class Profile(msgspec.Struct, kw_only=True):
    id: str
    role: str
    display_name: str
    face_verified_at: str | None  # the practice session's face verification (FACE-02), clinicians only
    patient: PatientRecord | msgspec.UnsetType = msgspec.UNSET  # a patient's own record; no other role has one


class Registered(msgspec.Struct, kw_only=True):
    patient_id: str
    real_name: str
    birth_date: str
    sex: str
