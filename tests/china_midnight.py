"""Fixtures that move the process's clock to each side of China's midnight, under each machine time zone.

Between 16:00 and 24:00 UTC a machine on UTC is a day behind China; a test (or product code) that takes its
date from the machine then disagrees with the hospital, whose "today" is China's (hospital.core.clock). The
date-sensitive tests ask for `around_china_midnight` (every combination) or `china_after_midnight` (the one
that used to fail) *before* the app's fixtures, so the app's clock starts at the moved time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from datetime import time as clock_time

import pytest
import time_machine

__all__ = ["around_china_midnight", "china_after_midnight", "moved_clock"]

# 15:30 UTC is 23:30 in China (both calendars agree); 16:30 UTC is 00:30 the next day in China.
MOMENTS = {"1530Z": clock_time(15, 30), "1630Z": clock_time(16, 30)}
MACHINE_ZONES = ("UTC", "Asia/Shanghai")


def moved_clock(moment: clock_time, machine_zone: str) -> Iterator[datetime]:
    """Today's `moment` (UTC), ticking on, with the process's TZ set to `machine_zone`."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = machine_zone
    time.tzset()
    destination = datetime.combine(datetime.now(UTC).date(), moment, UTC)
    try:
        with time_machine.travel(destination, tick=True):
            yield destination
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture(params=[(m, z) for m in MOMENTS for z in MACHINE_ZONES], ids=lambda p: f"{p[0]}-TZ={p[1]}")
def around_china_midnight(request: pytest.FixtureRequest) -> Iterator[datetime]:
    moment, zone = request.param
    yield from moved_clock(MOMENTS[moment], zone)


@pytest.fixture
def china_after_midnight() -> Iterator[datetime]:
    """16:30 UTC on a UTC machine: the machine's date is yesterday in China (the hours CI used to fail in)."""
    yield from moved_clock(MOMENTS["1630Z"], "UTC")
