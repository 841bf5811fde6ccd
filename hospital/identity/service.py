"""Log-in and the caller's own profile."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import NotAuthenticated, NotFound
from hospital.core.events import ask
from hospital.identity import rules
from hospital.identity.events import MayCarryPracticeSession
from hospital.identity.models import User
from hospital.identity.passwords import DUMMY_HASH, hash_off_loop, verify_off_loop
from hospital.identity.tokens import Principal

__all__ = ["IssuedToken", "create_user", "get_user", "log_in", "login_hash", "renew_token"]


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    role: str
    token_type: str = "Bearer"
    face_verified_at: datetime | None = None


def login_hash(ctx: HospitalContext, username: str) -> str:
    return ctx.cipher.keyed_hash(username.strip().lower(), context="login")


async def create_user(
    session: AsyncSession, ctx: HospitalContext, *, username: str, password: str, role: str, display_name: str
) -> User:
    """Add a user to the caller's transaction (the caller audits and commits)."""
    rules.check_password_strength(password)
    user = User(role=role, display_name=display_name, login_hash=login_hash(ctx, username),
                password_hash=await hash_off_loop(password))
    session.add(user)
    await session.flush()
    return user


async def log_in(session: AsyncSession, ctx: HospitalContext, actor: Actor, username: str, password: str) -> IssuedToken:
    ctx.throttle.check(actor.client_address or "unknown")
    now = ctx.now()
    user = (await session.execute(select(User).where(User.login_hash == login_hash(ctx, username)))).scalar_one_or_none()
    if user is None:
        await verify_off_loop(DUMMY_HASH, password)
        raise NotAuthenticated("wrong username or password")
    rules.check_not_locked(user.locked_until, now)
    if not user.is_active or not await verify_off_loop(user.password_hash, password):
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


async def renew_token(session: AsyncSession, ctx: HospitalContext, principal: Principal) -> IssuedToken:
    """A fresh token for a caller whose token is still valid: a long video call or review outlives one token.

    The account must still be active and unlocked, and the session younger than its maximum (SEC-01). The
    face verification is carried with its own time, never renewed: FACE-02/03 windows still run from it."""
    now = ctx.now()
    user = await session.get(User, principal.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("the account is no longer active")
    rules.check_not_locked(user.locked_until, now)
    rules.check_session_renewable(principal.authenticated_at, now, ctx.settings.session_max_seconds)
    practice = principal.practice_session_id
    answers = await ask(session, ctx, MayCarryPracticeSession(practice)) if practice is not None else []
    carried = practice is not None and bool(answers) and all(answers)  # biometrics: still open (FACE-02)
    verified_at = principal.face_verified_at if carried else None
    token, expires_in = ctx.tokens.issue(user.id, user.role, now, face_verified_at=verified_at,
                                         practice_session_id=practice if carried else None,
                                         authenticated_at=principal.authenticated_at)
    return IssuedToken(access_token=token, expires_in=expires_in, role=user.role, face_verified_at=verified_at)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("no such user")
    return user
