"""Prescriptions, their pharmacist reviews and their dispensing, as stored (RX-05, RX-06, RX-08).

The signed document, the doctor's JWS, the rule findings, the review's reasons and JWS are clinical content and
are sealed at rest (REC-03), each bound to its row; what the queues filter on (status, people, dates, number)
stays in clear. Nothing is ever deleted: a revision is a new row that names the version it supersedes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.types import Record, UTCDateTime

__all__ = ["DeliveryChoice", "Dispensing", "Prescription", "PrescriptionCheck", "PrescriptionCountersignature",
           "PrescriptionReview"]


class Prescription(Record, table=True):
    """One signed version of a prescription. `version` guards concurrent review and dispensing."""

    number: str = Field(unique=True)
    base_number: str = Field(index=True)  # shared by every version of one prescription
    revision: int = 1
    supersedes_id: uuid.UUID | None = Field(default=None, foreign_key="prescription.id")
    superseded_by_id: uuid.UUID | None = Field(default=None, foreign_key="prescription.id")
    visit_id: uuid.UUID = Field(foreign_key="visit.id", index=True)
    patient_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    doctor_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    doctor_credential_id: uuid.UUID = Field(foreign_key="clinician_credential.id")
    department_code: str
    status: str = Field(default="pending_review", index=True)
    issued_at: datetime = Field(sa_type=UTCDateTime, index=True)
    valid_until: date
    supply_until: date  # the last day the longest item lasts: "still in effect" for RX-03/RX-04 checks
    total_cny: str
    payload_sealed: bytes
    payload_sha256: str = Field(index=True)
    doctor_jws_sealed: bytes
    findings_sealed: bytes  # JSON list of {rule_id, severity, category, message}
    warnings: int = 0  # findings of severity warn, for the queue at a glance
    practice_session_id: uuid.UUID | None = None
    face_verified_at: datetime = Field(sa_type=UTCDateTime)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dispensed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # RX-07: recorded by the server, never sent by a client: who wrote it (the doctor's own signing request) and
    # the dry run whose draft it is
    origin: str = "clinician"
    draft_check_id: uuid.UUID | None = Field(default=None, foreign_key="prescription_check.id")
    # RX-04: the version of the patient's safety context the rules read at signing
    safety_context_id: uuid.UUID | None = Field(default=None, foreign_key="patient_safety_context.id")
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # its visit was terminated or cancelled
    # RX-06: the pharmacist reviewing it now (one claim each); others do not see it until the claim lapses
    claimed_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1


class PrescriptionCountersignature(Record, table=True):
    """A second, paediatric doctor's signature on a child's prescription (REV-05, PD 17): their JWS over the
    prescription's number and payload hash, made within a fresh face verification (FACE-03). One per version."""

    __tablename__ = "prescription_countersignature"

    prescription_id: uuid.UUID = Field(foreign_key="prescription.id", unique=True)
    doctor_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    doctor_credential_id: uuid.UUID = Field(foreign_key="clinician_credential.id")
    jws_sealed: bytes
    countersigned_at: datetime = Field(sa_type=UTCDateTime)
    practice_session_id: uuid.UUID | None = None
    face_verified_at: datetime = Field(sa_type=UTCDateTime)


class PrescriptionCheck(Record, table=True):
    """A doctor's dry run of a draft (RX-07): the rules ran on exactly this draft, whose canonical hash signing
    must name. Used once; the findings are recomputed at signing (the visit may have changed)."""

    __tablename__ = "prescription_check"

    visit_id: uuid.UUID = Field(foreign_key="visit.id", index=True)
    doctor_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    supersedes_id: uuid.UUID | None = None  # the rejected version a revision replaces (no FK: no cycle)
    draft_sha256: str = Field(index=True)
    checked_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PrescriptionReview(Record, table=True):
    """The pharmacist's decision (审方), signed as a second JWS over the prescription's hash (RX-06)."""

    __tablename__ = "prescription_review"

    prescription_id: uuid.UUID = Field(foreign_key="prescription.id", unique=True)
    decision: str  # approve | reject
    reasons_sealed: bytes  # JSON list of strings: the pharmacist's notes to the doctor
    # a rejection's coded reasons (处方点评 categories, review/data/rejection_reasons.csv): what statistics and the
    # supervision platform read, in clear (categories, no clinical text)
    reason_codes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # the high-alert drugs (高警示药品) double-checked before approval: [{drug_code, checks}] (RX-06); signed too
    double_checks: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    # one per warning approved: {rule_id, finding (its index), reason (a coded AcknowledgementReason)}; signed too
    acknowledgements: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    pharmacist_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    pharmacist_credential_id: uuid.UUID = Field(foreign_key="clinician_credential.id")
    review_jws_sealed: bytes
    practice_session_id: uuid.UUID | None = None
    reviewed_at: datetime = Field(sa_type=UTCDateTime)


class Dispensing(Record, table=True):
    """Dispensing and delivery of one approved prescription, at most once (RX-08)."""

    prescription_id: uuid.UUID = Field(foreign_key="prescription.id", unique=True)
    status: str = Field(default="dispensed", index=True)
    courier_kind: str  # own | third_party
    courier_name: str
    tracking_number: str | None = None
    dispensed_by_user_id: uuid.UUID = Field(foreign_key="user_account.id")
    dispensed_at: datetime = Field(sa_type=UTCDateTime)
    shipped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    collected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # a pick-up handed over
    history: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)  # [{status, at, by_role, note}]
    version: int = 1


class DeliveryChoice(Record, table=True):
    """The patient's choice for one prescription (RX-08): pick-up at the pharmacy or delivery to an address.
    Per prescription, not per visit: each is dispensed on its own, and a revision is chosen again. No row means
    pick-up. The address (recipient, phone, street) is personal data, sealed at rest bound to its row (SEC-01)."""

    __tablename__ = "delivery_choice"

    prescription_id: uuid.UUID = Field(foreign_key="prescription.id", unique=True)
    method: str = "pickup"  # pickup | delivery
    address_sealed: bytes | None = None  # JSON {province, city, district, detail, recipient, mobile, postcode}
    chosen_at: datetime = Field(sa_type=UTCDateTime)
    version: int = 1
