"""What the visits area tells the others (hospital.core.events): a visit ended without being completed.

Plain values, not the visit row: a subscriber acts in the publisher's transaction (its session) and never commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hospital.core.audit import Actor
from hospital.core.events import Event

__all__ = ["VisitEnded"]


@dataclass(frozen=True, slots=True)
class VisitEnded(Event):
    """A visit was terminated by its doctor (REV-04) or cancelled by its patient (REV-06): whatever was started
    in it and not yet decided stops (the prescriptions area voids its pending prescriptions, RX-06)."""

    visit_id: uuid.UUID
    state: str  # terminated | cancelled
    actor: Actor
