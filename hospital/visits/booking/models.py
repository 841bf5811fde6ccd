"""Tables of booking: a doctor's schedules and the visits booked in them.

The visit row is here because booking creates it; the encounter changes its state and fills in the rest
(acceptance, termination, referral), through the state machine in `rules.py`. What the visit says of the
patient's health or family is sealed at rest (REC-03): the guardian's details in `guardian_sealed`, and the
infectious-disease flag, the referral, the REV-03 stop and the name resolution together in `clinical_sealed`
(always sealed from booking on, so an empty column does not tell which visits carry a flag). Nothing queries them.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.crypto import FieldCipher
from hospital.core.types import Record, UTCDateTime

__all__ = ["VISIT_CLINICAL", "Schedule", "Visit", "seal_visit_clinical", "seal_visit_guardian", "visit_clinical",
           "visit_guardian"]


class Schedule(Record, table=True):
    """A doctor's published consultation period in one department (REV-06)."""

    doctor_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    department_code: str = Field(index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    capacity: int
    booked: int = 0  # changed only under the row lock / version check with the booking (no double booking)
    modes: list[str] = Field(default_factory=lambda: ["video", "text"], sa_type=sa.JSON)
    # No price of its own: a visit costs its mode's fee as the disclosure publishes it (INS-03, one source).
    cancelled: bool = False
    withdrawn_reason: str | None = None  # 停诊: why the doctor or the administrator withdrew it (REV-06)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1


class Visit(Record, table=True):
    """One follow-up consultation, from booking to completion or termination with referral."""

    schedule_id: uuid.UUID = Field(foreign_key="schedule.id", index=True)
    patient_id: uuid.UUID = Field(foreign_key="patient.id", index=True)
    patient_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    doctor_user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    department_code: str
    mode: str  # video | text
    prior_diagnosis_id: uuid.UUID = Field(foreign_key="prior_diagnosis.id")
    state: str = Field(default="requested", index=True)
    queue_number: int
    version: int = 1
    guardian_sealed: bytes | None = None  # REV-05: the guardian's details (name, ID number, mobile), sealed
    revisit_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # REV-04
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    clinical_sealed: bytes | None = None  # VISIT_CLINICAL as one sealed JSON object (REC-03)
    paused: bool = False  # the live face watch paused the video (FACE-02) until the doctor re-verifies
    guardian_presence_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # REV-05, at start
    notice: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)  # what the patient is told (停诊, REV-06)
    # INS-03: the published fee of the mode, shown to the patient and accepted by them at booking (payment is a seam)
    fee_cny: str | None = None
    fee_accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# The sealed clinical details of a visit: the infectious-disease flag (at booking from the prior diagnosis, or
# the doctor's suspicion), the referral and the termination's reason (suspected_infectious says as much as the
# flag), the REV-03/REV-04 stop (a diagnosis that cannot be served online: only termination remains) and the
# REV-02 name resolution (at acceptance).
VISIT_CLINICAL = ("infectious_flag", "referral", "stopped", "name_resolution", "termination_reason")


def _context(visit: Visit, part: str) -> str:
    return f"visit.{part}:{visit.id}"


def visit_clinical(cipher: FieldCipher, visit: Visit) -> dict[str, Any]:
    """The visit's clinical details opened, every key of VISIT_CLINICAL present (None where unset)."""
    opened: dict[str, Any] = {} if visit.clinical_sealed is None else cipher.open_json(
        visit.clinical_sealed, context=_context(visit, "clinical"))
    return {key: opened.get(key) for key in VISIT_CLINICAL}


def seal_visit_clinical(cipher: FieldCipher, visit: Visit, **changes: Any) -> dict[str, Any]:
    """Change some of the visit's clinical details and seal them all again; returns them opened."""
    unknown = set(changes) - set(VISIT_CLINICAL)
    if unknown:
        raise ValueError(f"not a clinical detail of a visit: {sorted(unknown)}")
    details = {**visit_clinical(cipher, visit), **changes}
    visit.clinical_sealed = cipher.seal_json(details, context=_context(visit, "clinical"))
    return details


def seal_visit_guardian(cipher: FieldCipher, visit: Visit, details: dict[str, Any]) -> None:
    """The guardian's details (name, relationship, ID number, mobile, present_confirmed), sealed (REV-05)."""
    visit.guardian_sealed = cipher.seal_text(json.dumps(details), context="visit.guardian")


def visit_guardian(cipher: FieldCipher, visit: Visit) -> dict[str, Any] | None:
    if visit.guardian_sealed is None:
        return None
    details: dict[str, Any] = json.loads(cipher.open_text(visit.guardian_sealed, context="visit.guardian"))
    return details
