"""Log-in and the caller's own profile."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import AccessRefused, NotAuthenticated, NotFound
from hospital.core.events import ask
from hospital.core.messages import say
from hospital.identity import rules
from hospital.identity.events import MayCarryPracticeSession, MayOpenSession
from hospital.identity.models import AuthSession, User
from hospital.identity.passwords import DUMMY_HASH, hash_off_loop, verify_off_loop
from hospital.identity.tokens import Principal

__all__ = ["IssuedToken", "change_password", "create_user", "end_sessions", "get_user", "log_in", "log_out", "login_hash",
           "reissue", "renew_token"]


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
    now = ctx.now()
    # The rate limit per address (SEC-01) is counted and committed first, shared by every replica.
    await ctx.throttle.count_attempt(session, ctx.cipher.keyed_hash(actor.client_address or "unknown",
                                                                    context="login-throttle"), now)
    user = (await session.execute(select(User).where(User.login_hash == login_hash(ctx, username)))).scalar_one_or_none()
    if user is None:
        await verify_off_loop(DUMMY_HASH, password)
        raise NotAuthenticated(say("identity.wrong_password"))
    rules.check_not_locked(user.locked_until, now)
    if not user.is_active or not await verify_off_loop(user.password_hash, password):
        user.failed_logins += 1
        user.locked_until = rules.failure_locks(user.failed_logins, ctx.settings.login_max_failures, now,
                                                ctx.settings.login_lockout_seconds)
        user.touch()
        await append_audit(session, actor, "login.failed", subject_type="user", subject_id=user.id,
                           detail={"failures": user.failed_logins, "locked": user.locked_until is not None})
        if user.locked_until is not None:  # a lock ends the sessions already open, at once (SEC-01)
            await end_sessions(session, ctx, Actor.system("identity"), user.id, reason="locked")
        await session.commit()
        raise NotAuthenticated(say("identity.wrong_password"))
    may_open: list[bool] = await ask(session, ctx, MayOpenSession(user.id, user.role))
    if not all(may_open):  # staff: not suspended (STAFF-03)
        raise AccessRefused("STAFF-03", "the clinician is suspended from practice; no session is opened")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    user.touch()
    auth = AuthSession(user_id=user.id, authenticated_at=now)
    token, expires_in = _issue(ctx, auth, user.role, now, replace=True)
    session.add(auth)
    await session.flush()
    await append_audit(session, Actor(user.id, user.role, actor.request_id, actor.client_address), "login.succeeded",
                       subject_type="user", subject_id=user.id, detail={"session_id": str(auth.id)})
    await session.commit()
    return IssuedToken(access_token=token, expires_in=expires_in, role=user.role)


def _issue(ctx: HospitalContext, auth: AuthSession, role: str, now: datetime, *, replace: bool,
           face_verified_at: datetime | None = None, practice_session_id: uuid.UUID | None = None) -> tuple[str, int]:
    """The session's next token; with `replace` every token issued before it is refused from now on."""
    auth.issued += 1
    if replace:
        auth.oldest_valid = auth.issued
    auth.touch()
    return ctx.tokens.issue(auth.user_id, role, now, face_verified_at=face_verified_at,
                            practice_session_id=practice_session_id, authenticated_at=auth.authenticated_at,
                            session_id=auth.id, session_token=auth.issued)


async def _open_session_of(session: AsyncSession, principal: Principal) -> AuthSession:
    auth = await session.get(AuthSession, principal.session_id) if principal.session_id else None
    if auth is None or auth.ended_at is not None or principal.session_token < auth.oldest_valid:
        raise NotAuthenticated("the session has ended; log in again", rule_id="SEC-01")
    return auth


async def reissue(session: AsyncSession, ctx: HospitalContext, principal: Principal, *,
                  face_verified_at: datetime | None, practice_session_id: uuid.UUID | None) -> tuple[str, int]:
    """Another token in the caller's session, carrying a practice session (a face verification, FACE-02); the token
    it was asked with stays good until it expires or the session is renewed. In the caller's transaction."""
    auth = await _open_session_of(session, principal)
    return _issue(ctx, auth, principal.role, ctx.now(), replace=False, face_verified_at=face_verified_at,
                  practice_session_id=practice_session_id)


async def end_sessions(session: AsyncSession, ctx: HospitalContext, actor: Actor, user_id: uuid.UUID, *,
                       reason: str, only: uuid.UUID | None = None) -> int:
    """End the user's open sessions (or only the session `only`): every token of theirs is refused from the next
    request on, in every process (SEC-01). In the caller's transaction; returns how many ended."""
    query = select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))  # type: ignore[union-attr]
    if only is not None:
        query = query.where(AuthSession.id == only)
    ended = (await session.execute(query)).scalars().all()
    now = ctx.now()
    for auth in ended:
        auth.ended_at, auth.end_reason = now, reason
        auth.touch()
    if ended:
        await append_audit(session, actor, "session.ended", subject_type="user", subject_id=user_id, rule_id="SEC-01",
                           detail={"reason": reason, "sessions": sorted(str(a.id) for a in ended)})
    return len(ended)


async def log_out(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal) -> None:
    """End the caller's session: the token just used, and any renewal of it, are refused from now on."""
    auth = await _open_session_of(session, principal)
    await end_sessions(session, ctx, actor, principal.user_id, reason="logout", only=auth.id)
    await session.commit()


async def change_password(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                          current_password: str, new_password: str) -> None:
    """Change the caller's password; every session of theirs ends, this one too (log in with the new password)."""
    user = await session.get(User, principal.user_id)
    if user is None or not await verify_off_loop(user.password_hash, current_password):
        raise AccessRefused("SEC-01", "the current password is wrong")
    rules.check_password_strength(new_password)
    user.password_hash = await hash_off_loop(new_password)
    user.touch()
    await append_audit(session, actor, "user.password_changed", subject_type="user", subject_id=user.id,
                       rule_id="SEC-01")
    await end_sessions(session, ctx, actor, user.id, reason="password_changed")
    await session.commit()


async def renew_token(session: AsyncSession, ctx: HospitalContext, principal: Principal) -> IssuedToken:
    """A fresh token replacing the caller's (the old one is refused from now on): a long video call or review outlives
    one token.

    The account must still be active and unlocked, and the session younger than its maximum (SEC-01). The
    face verification is carried with its own time, never renewed: FACE-02/03 windows still run from it."""
    now = ctx.now()
    user = await session.get(User, principal.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("the account is no longer active")
    rules.check_not_locked(user.locked_until, now)
    auth = await _open_session_of(session, principal)
    rules.check_session_renewable(auth.authenticated_at, now, ctx.settings.session_max_seconds)
    practice = principal.practice_session_id
    answers = await ask(session, ctx, MayCarryPracticeSession(practice)) if practice is not None else []
    carried = practice is not None and bool(answers) and all(answers)  # biometrics: still open (FACE-02)
    verified_at = principal.face_verified_at if carried else None
    token, expires_in = _issue(ctx, auth, user.role, now, replace=True, face_verified_at=verified_at,
                               practice_session_id=practice if carried else None)
    await append_audit(session, Actor(user.id, user.role), "session.renewed", subject_type="user", subject_id=user.id,
                       rule_id="SEC-01", detail={"session_id": str(auth.id)})
    await session.commit()  # the token before this one is refused from now on
    return IssuedToken(access_token=token, expires_in=expires_in, role=user.role, face_verified_at=verified_at)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("no such user")
    return user
