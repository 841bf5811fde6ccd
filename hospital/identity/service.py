"""Log-in and the caller's own profile."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import NotAuthenticated, NotFound
from hospital.identity import rules
from hospital.identity.models import User
from hospital.identity.passwords import DUMMY_HASH, hash_password, verify_password

__all__ = ["IssuedToken", "create_user", "get_user", "log_in", "login_hash"]


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    role: str
    token_type: str = "Bearer"


def login_hash(ctx: HospitalContext, username: str) -> str:
    return ctx.cipher.keyed_hash(username.strip().lower(), context="login")


async def create_user(
    session: AsyncSession, ctx: HospitalContext, *, username: str, password: str, role: str, display_name: str
) -> User:
    """Add a user to the caller's transaction (the caller audits and commits)."""
    rules.check_password_strength(password)
    user = User(role=role, display_name=display_name, login_hash=login_hash(ctx, username),
                password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    return user


async def log_in(session: AsyncSession, ctx: HospitalContext, actor: Actor, username: str, password: str) -> IssuedToken:
    ctx.throttle.check(actor.client_address or "unknown")
    now = ctx.now()
    user = (await session.execute(select(User).where(User.login_hash == login_hash(ctx, username)))).scalar_one_or_none()
    if user is None:
        verify_password(DUMMY_HASH, password)
        raise NotAuthenticated("wrong username or password")
    rules.check_not_locked(user.locked_until, now)
    if not user.is_active or not verify_password(user.password_hash, password):
        user.failed_logins += 1
        user.locked_until = rules.failure_locks(user.failed_logins, ctx.settings.login_max_failures, now,
                                                ctx.settings.login_lockout_seconds)
        user.touch()
        await append_audit(session, actor, "login.failed", subject_type="user", subject_id=user.id,
                           detail={"failures": user.failed_logins, "locked": user.locked_until is not None})
        await session.commit()
        raise NotAuthenticated("wrong username or password")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    user.touch()
    await append_audit(session, Actor(user.id, user.role, actor.request_id, actor.client_address), "login.succeeded",
                       subject_type="user", subject_id=user.id)
    token, expires_in = ctx.tokens.issue(user.id, user.role, now)
    await session.commit()
    return IssuedToken(access_token=token, expires_in=expires_in, role=user.role)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("no such user")
    return user
