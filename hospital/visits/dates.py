"""Calendar arithmetic the visit sub-areas share: months that land on real days."""

from __future__ import annotations

import calendar
from datetime import date

__all__ = ["add_months"]


def add_months(start: date, months: int) -> date:
    """`start` moved by `months` calendar months; a day past the month's end falls on its last day
    (31 Jan + 1 month = 28/29 Feb), which keeps a recency window from growing (REV-02)."""
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(start.day, last_day))

