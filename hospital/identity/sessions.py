"""The check every request makes (SEC-01): the token's log-in session is open, no renewal replaced the token, the
account is active and unlocked; the role is the account's, not the token's.

One primary-key read joined to the account, on every request, from the database every process shares: a log-out,
lock, suspension, password change or renewal in any process is seen by the next request in every other, with no
cache to invalidate. On SQLite the read goes through an engine that opens plain (deferred) transactions, so it never
takes the write lock.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hospital.core.errors import NotAuthenticated
from hospital.identity import rules
from hospital.identity.models import AuthSession, User
from hospital.identity.tokens import Principal

__all__ = ["current_principal"]


async def current_principal(engine: AsyncEngine, principal: Principal, now: datetime) -> Principal:
    """`principal` as the session and the account say now; refuses (401, SEC-01) a token whose session is over."""
    if principal.session_id is None:
        raise NotAuthenticated("the token belongs to no session; log in again", rule_id="SEC-01")
    query = (select(AuthSession.oldest_valid, AuthSession.ended_at, AuthSession.end_reason, AuthSession.user_id,
                    User.role, User.is_active, User.locked_until)  # type: ignore[call-overload]
             .join(User, User.id == AuthSession.user_id)  # type: ignore[arg-type]
             .where(AuthSession.id == principal.session_id))
    async with engine.connect() as connection:
        row = (await connection.execute(query)).first()
    rules.check_session_current(
        found=row is not None and row.user_id == principal.user_id,
        ended_reason=(row.end_reason or "ended") if row is not None and row.ended_at is not None else None,
        current=row is not None and principal.session_token >= row.oldest_valid,
        active=row is not None and bool(row.is_active), locked_until=row.locked_until if row is not None else None,
        now=now)
    assert row is not None
    return dataclasses.replace(principal, role=str(row.role))
