"""Wire schemas of booking and the encounter (hospital/visits/booking/api.py, hospital/visits/encounter/api.py):
a published schedule, and a visit as its patient and its doctor read it, field for field as the pages read them.

The referral, the infectious-disease flag, the REV-03 stop, the name resolution and the patient's notice are
objects whose keys depend on how they arose (booking, the doctor, the record); they stay open objects here."""

from __future__ import annotations

from typing import Any

import msgspec

from hospital.contracts.intake import PriorDiagnosisView

__all__ = ["BookableSchedule", "BookableSchedules", "BookingReason", "ChatMessageView", "DepartmentRef", "MedicalRecordView",
           "QueuePlaceView", "RecordState", "ScheduleView", "ScheduleWithdrawn", "VisitGuardian", "VisitPatient",
           "VisitView"]


class ScheduleView(msgspec.Struct, kw_only=True):
    schedule_id: str
    department_code: str
    department_name: str
    doctor_user_id: str
    doctor_name: str | None
    doctor_title: str | None
    starts_at: str | None  # ISO 8601 with offset
    ends_at: str | None
    capacity: int
    booked: int
    free_places: int
    modes: list[str]
    prices: dict[str, str]  # per mode, the fee the disclosure publishes (INS-03: one source of prices)


class BookingReason(msgspec.Struct, kw_only=True):
    """Why a diagnosis cannot be booked into a schedule: the rule's own sentence, and a code with parameters for the
    page to say it in the patient's words."""

    code: str  # diagnosis | department | expired | other
    rule_id: str
    detail: str
    params: dict[str, Any]


class BookableSchedule(ScheduleView, kw_only=True):
    eligible: bool
    reason: BookingReason | None


class DepartmentRef(msgspec.Struct, kw_only=True):
    code: str
    name: str


class BookableSchedules(msgspec.Struct, kw_only=True):
    """Every upcoming schedule with whether the chosen prior diagnosis can be booked into it (REV-02, REV-06)."""

    prior_diagnosis: PriorDiagnosisView
    serving_departments: list[DepartmentRef]
    schedules: list[BookableSchedule]


class VisitPatient(msgspec.Struct, kw_only=True):
    name: str
    sex: str
    age: int  # on the day of the visit


class VisitGuardian(msgspec.Struct, kw_only=True):
    """A child's guardian recorded at booking (REV-05); the ID number masked."""

    name: str
    relationship: str
    id_number: str
    present_confirmed: bool


class RecordState(msgspec.Struct, kw_only=True):
    signed: bool
    signed_at: str | None


class QueuePlaceView(msgspec.Struct, kw_only=True):
    """Where a waiting visit stands now (REV-06); it moves as the visits before it are taken, ended or cancelled."""

    position: int  # 1 + the visits before it the doctor has not yet taken
    ahead: int  # every visit before it not yet ended
    with_doctor_ahead: int


class VisitView(msgspec.Struct, kw_only=True):
    visit_id: str
    state: str
    mode: str
    queue_number: int
    queue: QueuePlaceView | None  # None once the visit no longer waits
    version: int
    schedule_id: str
    department_code: str
    department_name: str
    starts_at: str | None
    ends_at: str | None
    doctor_name: str | None
    doctor_title: str | None
    patient: VisitPatient
    guardian: VisitGuardian | None
    prior_diagnosis: PriorDiagnosisView
    booked_at: str | None
    fee_cny: str | None  # INS-03: the published fee the patient accepted at booking
    fee_accepted_at: str | None
    accepted_at: str | None
    revisit_confirmed_at: str | None
    started_at: str | None
    ended_at: str | None
    termination_reason: str | None
    referral: dict[str, Any] | None
    infectious_flag: dict[str, Any] | None
    paused: bool
    stopped: dict[str, Any] | None
    name_resolution: dict[str, Any] | None
    notice: dict[str, Any] | None
    guardian_presence_confirmed_at: str | None
    allowed_actions: list[str]
    # One visit's own answer says whether its record is signed (None: no record, or a draft a patient never sees)
    medical_record: RecordState | msgspec.UnsetType | None = msgspec.UNSET


class ChatMessageView(msgspec.Struct, kw_only=True):
    """One message of a visit's chat, opened for its patient or its doctor."""

    message_id: str
    visit_id: str
    sender_role: str  # patient | doctor
    sender_user_id: str
    sent_at: str  # ISO 8601 with offset
    body: str


class ScheduleWithdrawn(msgspec.Struct, kw_only=True):
    """停诊 (REV-06): the schedule withdrawn, and the visits it cancelled (their patients are notified)."""

    schedule_id: str
    withdrawn: bool
    reason: str | None
    withdrawn_at: str | None
    cancelled_visits: list[str]


class MedicalRecordView(msgspec.Struct, kw_only=True):
    """The visit's outpatient EMR (REC-01): its doctor reads the draft or the signed record, its patient the signed
    one. The content fields are the record as written (the stored, sealed JSON); a record written before a field
    existed reads it empty."""

    medical_record_id: str
    visit_id: str
    chief_complaint: str
    present_illness: str
    allergy_history: str
    diagnosis_icd10: str
    diagnosis_name: str
    treatment_advice: str
    past_history: str = ""
    examination_findings: str = ""
    department_code: str = ""
    visited_at: str | None = None  # ISO 8601 with offset
    guardian_presence_confirmed_at: str | msgspec.UnsetType = msgspec.UNSET  # a child's visit (REV-05)
    signed: bool
    signed_at: str | None
    signed_by_user_id: str | None
    signature: str | None  # the doctor's compact JWS over the canonical record (RX-05)
    version: int
    retention_class: str
    purge_not_before: str | None  # ISO date: kept 15 years from sign-off (REC-02)
