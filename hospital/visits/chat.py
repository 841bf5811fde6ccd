"""Text messages within a visit: written by its patient and its doctor while the visit is accepted or in
progress, readable by them afterwards; sealed at rest (REC-03) and kept 3 years (REC-02)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.biometrics.gate import require_practice_session
from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import InvalidInput, InvalidTransition
from hospital.core.retention import RetentionClass, purge_not_before
from hospital.identity.models import Role
from hospital.identity.tokens import Principal
from hospital.institution.service import require_licence_in_force
from hospital.staff.service import require_can_practise
from hospital.visits import queries
from hospital.visits.lifecycle import PRESCRIBING_STATES, VisitState
from hospital.visits.models import ChatMessage

__all__ = ["MAX_MESSAGE_CHARS", "list_messages", "post_message"]

MAX_MESSAGE_CHARS = 4000


def _context(visit_id: uuid.UUID) -> str:
    return f"chat:{visit_id}"


def message_view(ctx: HospitalContext, message: ChatMessage) -> dict[str, Any]:
    return {"message_id": str(message.id), "visit_id": str(message.visit_id), "sender_role": message.sender_role,
            "sender_user_id": str(message.sender_user_id), "sent_at": message.created_at.isoformat(),
            "body": ctx.cipher.open_text(message.body_sealed, context=_context(message.visit_id))}


async def post_message(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                       visit_id: uuid.UUID, body: str) -> dict[str, Any]:
    """A message from the visit's patient or doctor; the doctor writes within a practice session (FACE-02)."""
    await require_licence_in_force(session, ctx)
    text = body.strip()
    if not 1 <= len(text) <= MAX_MESSAGE_CHARS:
        raise InvalidInput(f"a message has 1 to {MAX_MESSAGE_CHARS} characters")
    visit = await queries.visit_of_participant(session, visit_id, principal.user_id, principal.role, for_update=True)
    if principal.role == Role.DOCTOR:
        require_practice_session(ctx, principal)
        await require_can_practise(session, ctx, principal.user_id, visit.department_code)
    if VisitState(visit.state) not in PRESCRIBING_STATES:
        raise InvalidTransition(f"messages are written while the visit is accepted or in progress, not {visit.state}",
                                current_state=visit.state)
    now = ctx.now()
    message = ChatMessage(visit_id=visit.id, sender_user_id=principal.user_id, sender_role=principal.role,
                          body_sealed=ctx.cipher.seal_text(text, context=_context(visit.id)),
                          purge_not_before=purge_not_before(RetentionClass.CHAT, ctx.today()),
                          created_at=now, updated_at=now)
    session.add(message)
    await session.flush()
    await append_audit(session, actor, "chat.message_posted", subject_type="visit", subject_id=visit.id,
                       detail={"message_id": message.id, "sender_role": principal.role, "characters": len(text)})
    await session.commit()
    return message_view(ctx, message)


async def list_messages(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID, role: str,
                        visit_id: uuid.UUID) -> list[dict[str, Any]]:
    """The visit's messages in the order sent, for its patient or doctor (NotFound for anyone else)."""
    visit = await queries.visit_of_participant(session, visit_id, user_id, role)
    rows = (await session.execute(select(ChatMessage).where(ChatMessage.visit_id == visit.id)
                                  .order_by(col(ChatMessage.created_at), col(ChatMessage.id)))).scalars().all()
    return [message_view(ctx, m) for m in rows]
