"""The simulated platform's settings: the unit's credentials, the timestamp window, storage and limits."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.supervision.gateway.sm import parse_key

__all__ = ["SimulatorConfig"]


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """`store_path` ":memory:" keeps nothing across restarts; a file path keeps everything.
    `allowed_ips` None accepts any caller (else others get 40007). `clock` returns seconds (tests pass their own)."""

    unit_id: str
    app_key: str
    app_secret: str
    timestamp_window_s: int = 900
    store_path: str = ":memory:"
    max_use_days: int = 7
    allowed_ips: frozenset[str] | None = None
    clock: Callable[[], float] = field(default=time.time)

    def __post_init__(self) -> None:
        parse_key(self.app_secret)

    @property
    def window_ms(self) -> int:
        return self.timestamp_window_s * 1000
