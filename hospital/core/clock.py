"""The hospital's clock: every "now" and every "today" in the product comes from here.

"Now" is an aware UTC instant; "today" is the calendar day in the hospital's time zone (China Standard Time
by default, INS-04: the hospital serves in China), never the machine's local date. Between 16:00 and 24:00
UTC the machine's date is a day behind China's: a date taken from `date.today()` or `now.date()` would let a
patient book a schedule for "tomorrow" that is already today in China, or an expired credential still pass.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["CHINA_TIME", "DEFAULT_TIME_ZONE", "local_date", "time_zone", "utcnow"]

DEFAULT_TIME_ZONE = "Asia/Shanghai"

# China Standard Time, UTC+8 all year (no daylight saving since 1991): the default hospital zone, a fixed
# offset so it needs no time-zone database.
CHINA_TIME = timezone(timedelta(hours=8), "CST")


def utcnow() -> datetime:
    return datetime.now(UTC)


def time_zone(name: str) -> tzinfo:
    """The zone named in configuration (`HOSPITAL_TIME_ZONE`); Asia/Shanghai is CHINA_TIME."""
    if name in (DEFAULT_TIME_ZONE, "CST", "UTC+8"):
        return CHINA_TIME
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def local_date(moment: datetime, zone: tzinfo = CHINA_TIME) -> date:
    """The calendar day of an aware `moment` in the hospital's zone."""
    if moment.tzinfo is None:
        raise ValueError("local_date needs an aware datetime")
    return moment.astimezone(zone).date()
