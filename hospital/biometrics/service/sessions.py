"""Practice sessions (FACE-02) beyond the verification that opens them: whether one is still open (identity asks
before a renewed token carries it) and ending a clinician's open ones (a suspension, a withdrawn consent).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.biometrics.models import PracticeSession
from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.identity.events import MayCarryPracticeSession

__all__ = [
    "end_practice_sessions",
    "practice_session_open",
]


async def practice_session_open(session: AsyncSession, ctx: HospitalContext, asked: MayCarryPracticeSession) -> bool:
    """Answers identity's `MayCarryPracticeSession`: a renewed token carries the practice session while it is open."""
    practice = await session.get(PracticeSession, asked.practice_session_id)
    return practice is not None and practice.ended_at is None


async def end_practice_sessions(session: AsyncSession, ctx: HospitalContext, actor: Actor, user_id: uuid.UUID,
                                reason: str) -> int:
    """End a clinician's open practice sessions (a suspension): no renewed token carries them (FACE-02)."""
    now = ctx.now()
    open_sessions = (await session.execute(select(PracticeSession).where(
        PracticeSession.user_id == user_id, PracticeSession.ended_at.is_(None)))).scalars().all()  # type: ignore[union-attr]
    for practice in open_sessions:
        practice.ended_at = now
        practice.touch()
        await append_audit(session, actor, "practice_session.ended", subject_type="practice_session",
                           subject_id=practice.id, rule_id="FACE-02", detail={"reason": reason})
    return len(open_sessions)
