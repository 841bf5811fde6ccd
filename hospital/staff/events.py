"""What the staff area tells the others (hospital.core.events): admissions and suspensions.

Plain values, not the staff row: a subscriber that needs the row loads it from the publisher's session (it is in
that session's identity map, so no query runs).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hospital.core.audit import Actor
from hospital.core.events import Event

__all__ = ["ClinicianAdmitted", "SuspensionChanged"]


@dataclass(frozen=True, slots=True)
class ClinicianAdmitted(Event):
    """A doctor, pharmacist or nurse was admitted (STAFF-01, STAFF-02); signing issues their key (RX-05)."""

    staff_id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    actor: Actor


@dataclass(frozen=True, slots=True)
class SuspensionChanged(Event):
    """A clinician was suspended or reinstated (STAFF-03); signing revokes the certificate, or issues a new one."""

    staff_id: uuid.UUID
    user_id: uuid.UUID
    suspended: bool
    reason: str | None
    actor: Actor
