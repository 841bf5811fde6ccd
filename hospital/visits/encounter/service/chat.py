"""Text messages within a visit, each use case one transaction: the visit's patient and doctor write to each other
while it is accepted or in progress (the doctor within a practice session, FACE-02) and read them (audited, SEC-02).
Sealed at rest (REC-03); kept 3 years from the visit's end (REC-02).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hospital.biometrics.gate import require_practice_session
from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit, audit_read
from hospital.core.errors import InvalidInput, InvalidTransition
from hospital.core.retention import RetentionClass, purge_not_before
from hospital.identity.models import Role
from hospital.identity.tokens import Principal
from hospital.institution.service import require_licence_in_force
from hospital.staff.service import require_can_practise
from hospital.visits.booking import queries
from hospital.visits.booking.rules import VisitState
from hospital.visits.encounter.models import ChatMessage
from hospital.visits.encounter.queries import chat_seal_context, messages_of_visit
from hospital.visits.encounter.rules import PRESCRIBING_STATES

__all__ = [
    "MAX_MESSAGE_CHARS",
    "list_messages",
    "post_message",
]

MAX_MESSAGE_CHARS = 4000


def _message_view(ctx: HospitalContext, message: ChatMessage) -> dict[str, Any]:
    return {"message_id": str(message.id), "visit_id": str(message.visit_id), "sender_role": message.sender_role,
            "sender_user_id": str(message.sender_user_id), "sent_at": message.created_at.isoformat(),
            "body": ctx.cipher.open_text(message.body_sealed, context=chat_seal_context(message.visit_id))}


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
                          body_sealed=ctx.cipher.seal_text(text, context=chat_seal_context(visit.id)),
                          purge_not_before=purge_not_before(RetentionClass.CHAT, ctx.today()),
                          created_at=now, updated_at=now)
    session.add(message)
    await session.flush()
    await append_audit(session, actor, "chat.message_posted", subject_type="visit", subject_id=visit.id,
                       detail={"message_id": message.id, "sender_role": principal.role, "characters": len(text)})
    await session.commit()
    return _message_view(ctx, message)


async def list_messages(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID, role: str,
                        visit_id: uuid.UUID, *, read_by: Actor | None = None) -> list[dict[str, Any]]:
    """The visit's messages in the order sent, for its patient or doctor (NotFound for anyone else); with
    `read_by`, one `chat.read` entry names the messages read (SEC-02)."""
    visit = await queries.visit_of_participant(session, visit_id, user_id, role)
    messages = await messages_of_visit(session, visit.id)
    views = [_message_view(ctx, m) for m in messages]
    if read_by is not None:
        await audit_read(session, read_by, "chat.read", subject_type="chat_message", records=[m.id for m in messages],
                         patients=[visit.patient_user_id])
    return views
