"""Per-client log-in rate limit: a sliding one-minute window kept in this replica's memory.

It slows guessing from one address; the per-account lockout (stored in the database) is what holds across
replicas.
"""

from __future__ import annotations

import time
from collections import deque

from hospital.core.errors import RuleViolation

__all__ = ["LoginThrottle", "TooManyAttempts"]


class TooManyAttempts(RuleViolation):
    title = "Too many log-in attempts"


class LoginThrottle:
    def __init__(self, per_minute: int, *, window_seconds: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window = window_seconds
        self._attempts: dict[str, deque[float]] = {}

    def check(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        attempts = self._attempts.setdefault(client, deque())
        while attempts and attempts[0] <= now - self.window:
            attempts.popleft()
        if len(attempts) >= self.per_minute:
            raise TooManyAttempts("SEC-01", "too many log-in attempts from this address; wait a minute",
                                  retry_after=int(self.window))
        attempts.append(now)
        if len(self._attempts) > 10_000:  # bound memory: drop idle clients
            for key in [k for k, v in self._attempts.items() if not v][:5_000]:
                del self._attempts[key]
