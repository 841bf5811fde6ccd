"""When each method is reported and what must reach the platform before it, from `data/timing.csv`.

`t_plus_1`: in T+1 mode the method's records wait for the nightly batch of the day after their business day;
reference data (institution, staff, catalogue, face verifications) always goes at once, because the platform
checks business records against it on arrival. `after`: methods whose earlier events must all be delivered
first (the drug catalogue before prescriptions, staff before the records naming them). `routed_from`: the event
types whose mappers give the method, listed for every method another waits for: an earlier event not routed yet
holds back a waiting record only when its type may turn out to be one of these (the dispatcher dead-letters an
event routed to a listed method from a type not listed, so the list cannot silently fall behind the mappers).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.supervision.gateway.methods import all_methods

__all__ = ["MethodTiming", "batch_release", "business_day", "day_bounds", "timing_of"]

DATA = Path(__file__).parent / "data" / "timing.csv"


@dataclass(frozen=True, slots=True)
class MethodTiming:
    method: str
    t_plus_1: bool
    after: tuple[str, ...]
    routed_from: frozenset[str] | None = None  # None: any event type may give this method


@functools.cache
def _table() -> dict[str, MethodTiming]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    known = all_methods()
    table: dict[str, MethodTiming] = {}
    for line, row in enumerate(rows, start=2):
        after = tuple(m for m in row["after"].split("|") if m)
        for name in (row["method"], *after):
            if name not in known:
                raise ValueError(f"{DATA.name} line {line}: unknown gateway method {name!r}")
        if row["t_plus_1"] not in ("yes", "no"):
            raise ValueError(f"{DATA.name} line {line}: t_plus_1 must be yes or no")
        routed_from = frozenset(t for t in row["routed_from"].split("|") if t) or None
        table[row["method"]] = MethodTiming(row["method"], row["t_plus_1"] == "yes", after, routed_from)
    waited_for = {m for timing in table.values() for m in timing.after}
    if unlisted := sorted(m for m in waited_for if m in table and table[m].routed_from is None):
        raise ValueError(f"{DATA.name}: methods others wait for list no routed_from: {', '.join(unlisted)}")
    return table


def timing_of(method: str) -> MethodTiming:
    """A method missing from the table goes at once and waits for nothing."""
    return _table().get(method, MethodTiming(method, False, ()))


def business_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def batch_release(day: date, tz: ZoneInfo, at: time) -> datetime:
    """The moment the T+1 batch holding `day`'s records is released: `at` local time on the next day."""
    return datetime.combine(day + timedelta(days=1), at, tzinfo=tz)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
