"""What identity asks the other areas (hospital.core.events): questions it cannot answer alone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from hospital.core.events import Question
from hospital.identity.tokens import Principal

__all__ = ["MayCarryPracticeSession", "MayOpenSession", "OwnProfileSection"]


@dataclass(frozen=True, slots=True)
class MayCarryPracticeSession(Question[bool]):
    """A token is renewed (SEC-01): may it still carry this practice session (FACE-02)? Biometrics answers (the
    session is open, not ended by a suspension). Carried only when there are answers and every one is yes."""

    practice_session_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class OwnProfileSection(Question[dict[str, Any] | None]):
    """The caller reads their own profile: the area that keeps a record for `role` answers with its section
    (patients: the real-name record); every other area answers None."""

    role: str
    principal: Principal


@dataclass(frozen=True, slots=True)
class MayOpenSession(Question[bool]):
    """A user proved their password: may they have a session (SEC-01, STAFF-03)? Staff answers no for a suspended
    clinician (a suspension ends their sessions and keeps them out until reinstated). Refused on any no."""

    user_id: uuid.UUID
    role: str
