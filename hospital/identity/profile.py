"""The caller's own profile: the user, and the area record that belongs to their role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.identity.service import get_user
from hospital.identity.tokens import Principal

__all__ = ["PROFILE_SECTIONS", "own_profile"]

# Areas add a section for their role (patients add the real-name record, staff the credentials).
ProfileSection = Callable[[AsyncSession, HospitalContext, Principal], Awaitable[dict[str, Any] | None]]
PROFILE_SECTIONS: dict[str, ProfileSection] = {}


async def own_profile(session: AsyncSession, ctx: HospitalContext, principal: Principal) -> dict[str, Any]:
    user = await get_user(session, principal.user_id)
    result: dict[str, Any] = {
        "id": str(user.id),
        "role": user.role,
        "display_name": user.display_name,
        "face_verified_at": principal.face_verified_at.isoformat() if principal.face_verified_at else None,
    }
    section = PROFILE_SECTIONS.get(user.role)
    if section is not None:
        extra = await section(session, ctx, principal)
        if extra:
            result[user.role] = extra
    return result
