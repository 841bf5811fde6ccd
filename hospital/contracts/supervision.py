"""The connector's own event (SUP-04): the daily medical-dispute check-in, added by the dispatcher."""

from __future__ import annotations

from datetime import date

from hospital.contracts.base import Payload

__all__ = ["EVENTS", "DailyDisputes"]


class DailyDisputes(Payload, kw_only=True):
    """`supervision.daily_disputes` (subject: the day): how many disputes and adverse events the day had."""

    day: date
    dispute_events: int


EVENTS: dict[str, type[Payload]] = {"supervision.daily_disputes": DailyDisputes}
