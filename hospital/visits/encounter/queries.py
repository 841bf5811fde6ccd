"""Reads of what an encounter leaves behind: the visit's medical record (opened from its seal) and its chat.

The caller has already reached the visit through a scoped query (`visits.booking.queries`, SEC-01), so these
take the visit's id.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.context import HospitalContext
from hospital.visits.encounter.models import ChatMessage, MedicalRecord

__all__ = ["chat_seal_context", "emr_seal_context", "medical_record_of_visit", "messages_of_visit", "open_emr"]


def emr_seal_context(visit_id: uuid.UUID) -> str:
    """The associated data an EMR is sealed with (REC-03): a record moved to another visit fails to open."""
    return f"medical_record:{visit_id}"


def chat_seal_context(visit_id: uuid.UUID) -> str:
    """The associated data a chat message is sealed with (REC-03)."""
    return f"chat:{visit_id}"


async def medical_record_of_visit(session: AsyncSession, visit_id: uuid.UUID, *,
                                  for_update: bool = False) -> MedicalRecord | None:
    """The visit's EMR; the caller has already reached the visit through a scoped query."""
    query = select(MedicalRecord).where(MedicalRecord.visit_id == visit_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


def open_emr(ctx: HospitalContext, record: MedicalRecord) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(ctx.cipher.open(record.content_sealed, context=emr_seal_context(record.visit_id)))
    return content


async def messages_of_visit(session: AsyncSession, visit_id: uuid.UUID) -> list[ChatMessage]:
    """The visit's messages in the order sent."""
    query = (select(ChatMessage).where(ChatMessage.visit_id == visit_id)
             .order_by(col(ChatMessage.created_at), col(ChatMessage.id)))
    return list((await session.execute(query)).scalars().all())
