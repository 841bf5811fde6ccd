"""Per-address log-in rate limit (SEC-01), counted in the database so every replica shares one allowance.

Attempts are counted per address in fixed windows (`login_attempt_window`): one atomic upsert
(`INSERT … ON CONFLICT DO UPDATE … RETURNING`, on SQLite and PostgreSQL alike) bumps the window's count and reads
it back, so two replicas answering one address at once can neither lose a count nor both let the last attempt
through. The count is committed before the password is checked: a failed or refused attempt counts too. The
refusal answers 429 with Retry-After (the seconds left in the window); the per-account lockout (`User.locked_until`)
is separate and stays.
"""

from __future__ import annotations

import math
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.identity import rules
from hospital.identity.models import LoginAttemptWindow

__all__ = ["LoginThrottle"]


class LoginThrottle:
    def __init__(self, per_minute: int, *, window_seconds: int = 60) -> None:
        self.per_minute = per_minute
        self.window = window_seconds

    async def count_attempt(self, session: AsyncSession, client_hash: str, now: datetime) -> None:
        """Count one log-in attempt from `client_hash` and commit it; refuse (TooManyAttempts, 429) the attempts
        past the allowance until the window ends."""
        window = int(now.timestamp() // self.window)
        table = LoginAttemptWindow.__table__  # type: ignore[attr-defined]
        dialect = (await session.connection()).dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        bump = insert(table).values(client_hash=client_hash, window_number=window, attempts=1).on_conflict_do_update(
            index_elements=[table.c.client_hash, table.c.window_number], set_={"attempts": table.c.attempts + 1},
        ).returning(table.c.attempts)
        attempts = (await session.execute(bump)).scalar_one()
        if attempts == 1:  # a window's first attempt sweeps the windows that are over (bounded table)
            await session.execute(sa.delete(table).where(table.c.window_number < window - 1))
        await session.commit()
        retry_after = max(1, math.ceil((window + 1) * self.window - now.timestamp()))
        rules.check_login_rate(attempts, self.per_minute, retry_after)
