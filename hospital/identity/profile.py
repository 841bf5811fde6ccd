"""The caller's own profile: the user, and the area record that belongs to their role."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.events import ask
from hospital.identity.events import OwnProfileSection
from hospital.identity.service import get_user
from hospital.identity.tokens import Principal

__all__ = ["own_profile"]


async def own_profile(session: AsyncSession, ctx: HospitalContext, principal: Principal) -> dict[str, Any]:
    user = await get_user(session, principal.user_id)
    result: dict[str, Any] = {
        "id": str(user.id),
        "role": user.role,
        "display_name": user.display_name,
        "face_verified_at": principal.face_verified_at.isoformat() if principal.face_verified_at else None,
    }
    # The area that keeps a record for the role adds it (patients: the real-name record).
    extra = next((a for a in await ask(session, ctx, OwnProfileSection(user.role, principal)) if a), None)
    if extra:
        result[user.role] = extra
    return result
