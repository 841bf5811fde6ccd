"""Fault injection for the simulated platform: how the real one misbehaves, on demand.

One fault at a time, for the next `count` requests, for `seconds`, or until cleared:
  http500  answer HTTP 500                       (a retry is due)
  busy     answer `{"code": -1}`, the gateway busy (a retry is due)
  stall    hang for `delay` seconds, then HTTP 504 without processing (the client times out; nothing landed)
  slow     process and store, then wait `delay` seconds before answering (the client may time out
           although the data landed: its retry must be de-duplicated)
  down     answer HTTP 503 to everything on the protocol paths (the admin paths stay up)
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hospital.core.errors import InvalidInput

__all__ = ["Fault", "FaultInjector", "FaultKind"]


class FaultKind(enum.StrEnum):
    HTTP_500 = "http500"
    BUSY = "busy"
    STALL = "stall"
    SLOW = "slow"
    DOWN = "down"


@dataclass(slots=True)
class Fault:
    kind: FaultKind
    remaining: int | None  # requests left, None for no count limit
    until: float | None  # clock time it ends, None for no time limit
    delay: float

    def as_dict(self, now: float) -> dict[str, Any]:
        left = None if self.until is None else max(0.0, self.until - now)
        return {"kind": self.kind.value, "remaining": self.remaining, "secondsLeft": left, "delay": self.delay}


class FaultInjector:
    """Holds the active fault; `take()` hands it to one request and counts it down."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._fault: Fault | None = None

    def set(self, kind: str, *, count: int | None = None, seconds: float | None = None, delay: float = 30.0) -> Fault:
        try:
            fault_kind = FaultKind(kind)
        except ValueError as exc:
            raise InvalidInput(f"unknown fault {kind!r}; one of {', '.join(k.value for k in FaultKind)}") from exc
        if (count is not None and count < 1) or (seconds is not None and seconds <= 0) or delay < 0:
            raise InvalidInput("count must be ≥ 1, seconds > 0 and delay ≥ 0")
        until = None if seconds is None else self._clock() + seconds
        self._fault = Fault(fault_kind, count, until, delay)
        return self._fault

    def clear(self) -> None:
        self._fault = None

    def active(self) -> Fault | None:
        fault = self._fault
        if fault is not None and fault.until is not None and self._clock() >= fault.until:
            self._fault = fault = None
        return fault

    def take(self) -> Fault | None:
        """The fault that applies to this request, if any, counting it against `count`."""
        fault = self.active()
        if fault is not None and fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._fault = None
        return fault

    def describe(self) -> dict[str, Any] | None:
        fault = self.active()
        return None if fault is None else fault.as_dict(self._clock())
