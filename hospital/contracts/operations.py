"""Wire schemas of the operator's answers: the liveness and readiness probes (hospital/health.py) and the
supervision connector's status the administrator's connector page reads (hospital/web/admin_api.py, SUP-01,
SUP-02), key for key as `connectors.supervision.operations.ConnectorStatus.as_dict` gives it."""

from __future__ import annotations

import msgspec

__all__ = ["ConnectorHealthView", "ConnectorStatusView", "DeadEvent", "Health", "OldestEvent", "Readiness"]


class Health(msgspec.Struct, kw_only=True):
    status: str  # ok


class Readiness(msgspec.Struct, kw_only=True):
    status: str  # ready | not ready (then 503)
    checks: dict[str, str]  # database, migrations, each probe: "ok" or what is wrong


class OldestEvent(msgspec.Struct, kw_only=True):
    """The oldest outbox event free to go and not yet delivered."""

    seq: int
    id: str
    event_type: str
    created_at: str  # ISO 8601 with offset
    status: str
    attempts: int
    last_error: str | None


class DeadEvent(msgspec.Struct, kw_only=True):
    seq: int
    id: str
    event_type: str
    subject: str  # "<subject type> <subject id>"
    attempts: int
    error: str | None


class ConnectorHealthView(msgspec.Struct, kw_only=True):
    """The verdict the page shows in red or green: `ok` only with a platform configured and no lag over the
    threshold."""

    ok: bool
    alarms: list[str]  # not_configured | lag_over_threshold
    configured: bool
    lag_threshold_s: float


class ConnectorStatusView(msgspec.Struct, kw_only=True):
    counts: dict[str, int]  # outbox events by status
    waiting: int  # pending events set aside until what they depend on is delivered
    lag_s: float | None
    oldest: OldestEvent | None
    dead: list[DeadEvent]  # the first 20
    parked_types: dict[str, int]
    delivery_lag_p50_s: float | None
    delivery_lag_p99_s: float | None
    health: ConnectorHealthView | None
