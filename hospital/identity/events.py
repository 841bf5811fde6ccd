"""What identity asks the other areas (hospital.core.events): questions it cannot answer alone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from hospital.core.events import Question
from hospital.identity.tokens import Principal

__all__ = ["MayCarryPracticeSession", "OwnProfileSection"]


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
