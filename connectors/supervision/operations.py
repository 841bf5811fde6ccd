"""Operating the connector: its status (lag, counts, the oldest waiting event, the dead letters), re-queueing
what a person fixed, the readiness probe for `/ready`, and the daily dispute check-in events."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.supervision.mapping.quality import DAILY_DISPUTES, DISPUTE_EVENTS
from connectors.supervision.queue import REQUIRES_NOTE, WAITING_NOTE
from connectors.supervision.settings import ConnectorSettings
from connectors.supervision.timing import day_bounds
from hospital.contracts.supervision import DailyDisputes
from hospital.core.outbox import OutboxEvent, OutboxStatus, emit
from hospital.core.types import utcnow

__all__ = ["ConnectorHealth", "ConnectorStatus", "connector_health", "connector_status", "ensure_daily_check_ins",
           "install_readiness_probe", "readiness_probe", "requeue"]

T = OutboxEvent.__table__  # type: ignore[attr-defined]
BLOCKING = (OutboxStatus.PENDING.value, OutboxStatus.RETRYING.value)


@dataclass
class ConnectorStatus:
    counts: dict[str, int]
    waiting: int  # pending events set aside until what they depend on is delivered
    lag_s: float | None  # age of the oldest event free to go and not yet delivered
    oldest: dict[str, Any] | None
    dead: list[dict[str, Any]] = field(default_factory=list)
    parked_types: dict[str, int] = field(default_factory=dict)
    delivery_lag_p50_s: float | None = None  # commit → acknowledgement, over the last 1000 delivered
    delivery_lag_p99_s: float | None = None

    health: ConnectorHealth | None = None  # the operator's verdict, when the settings are known

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ConnectorHealth:
    """Is the connection to the supervision platform what SUP-01/SUP-02 need? `ok` only when a platform is
    configured and the oldest event due is younger than the lag threshold; `alarms` say what is wrong."""

    ok: bool
    alarms: tuple[str, ...]  # not_configured | lag_over_threshold
    configured: bool
    lag_threshold_s: float


def connector_health(*, configured: bool, lag_s: float | None, lag_threshold_s: float) -> ConnectorHealth:
    """The verdict the administrator's page shows in red or green (issue 14: a page that said "ready" while no
    platform was configured and events had waited 14 minutes). Without a platform nothing reaches the
    regulator (SUP-01), so that alone is red; a lag over the threshold is red as /ready reports it."""
    alarms: list[str] = []
    if not configured:
        alarms.append("not_configured")
    if lag_s is not None and lag_s > lag_threshold_s:
        alarms.append("lag_over_threshold")
    return ConnectorHealth(not alarms, tuple(alarms), configured, lag_threshold_s)


def _due(now: datetime) -> Any:
    # Free to go: due now, or retrying. Events held for the nightly batch or waiting on another record are not lag.
    return sa.and_(T.c.status.in_(BLOCKING), sa.or_(T.c.next_attempt_at <= now,
                                                    T.c.status == OutboxStatus.RETRYING.value))


async def _lag(session: AsyncSession, now: datetime) -> tuple[float | None, Any]:
    row = (await session.execute(sa.select(T.c.seq, T.c.id, T.c.event_type, T.c.created_at, T.c.attempts,
                                           T.c.last_error, T.c.status).where(_due(now))
                                 .order_by(T.c.seq).limit(1))).first()
    if row is None:
        return None, None
    return (now - row.created_at).total_seconds(), row


async def connector_status(session: AsyncSession, now: datetime | None = None,
                           settings: ConnectorSettings | None = None) -> ConnectorStatus:
    """The outbox as the connector sees it; with `settings`, also the health verdict (`connector_health`)."""
    now = now or utcnow()
    counts = {s.value: 0 for s in OutboxStatus}
    for status, n in (await session.execute(sa.select(T.c.status, sa.func.count()).group_by(T.c.status))).all():
        counts[status] = n
    waiting = (await session.execute(sa.select(sa.func.count()).where(
        T.c.status == OutboxStatus.PENDING.value,
        sa.or_(T.c.last_error.startswith(WAITING_NOTE), T.c.last_error.startswith(REQUIRES_NOTE))))).scalar_one()
    lag, oldest = await _lag(session, now)
    dead = [{"seq": r.seq, "id": str(r.id), "event_type": r.event_type, "subject": f"{r.subject_type} {r.subject_id}",
             "attempts": r.attempts, "error": r.last_error}
            for r in (await session.execute(sa.select(T).where(T.c.status == OutboxStatus.DEAD.value)
                                            .order_by(T.c.seq).limit(20))).all()]
    parked: dict[str, int] = dict((await session.execute(sa.select(T.c.event_type, sa.func.count()).where(
        T.c.status == OutboxStatus.PARKED.value).group_by(T.c.event_type))).all())
    sent = (await session.execute(sa.select(T.c.created_at, T.c.sent_at).where(
        T.c.status == OutboxStatus.SENT.value).order_by(T.c.seq.desc()).limit(1000))).all()
    lags = sorted((r.sent_at - r.created_at).total_seconds() for r in sent if r.sent_at is not None)
    await session.rollback()
    status = ConnectorStatus(counts, waiting, lag, None, dead, parked)
    if oldest is not None:
        status.oldest = {"seq": oldest.seq, "id": str(oldest.id), "event_type": oldest.event_type,
                         "created_at": oldest.created_at.isoformat(), "status": oldest.status,
                         "attempts": oldest.attempts, "last_error": oldest.last_error}
    if lags:
        status.delivery_lag_p50_s = round(statistics.median(lags), 3)
        status.delivery_lag_p99_s = round(lags[min(len(lags) - 1, int(len(lags) * 0.99))], 3)
    if settings is not None:
        status.health = connector_health(configured=settings.configured, lag_s=status.lag_s,
                                         lag_threshold_s=settings.lag_threshold_s)
    return status


async def requeue(session: AsyncSession, *, event: str | None = None, all_dead: bool = False,
                  now: datetime | None = None) -> dict[str, int]:
    """Send dead (or parked) events again, routed afresh with the current mappers and settings. An event a
    later delivered event of the same subject and type has replaced is marked superseded instead, so the
    platform never receives an older version after a newer one."""
    now = now or utcnow()
    query = sa.select(T).where(T.c.status.in_((OutboxStatus.DEAD.value, OutboxStatus.PARKED.value)))
    if event is not None:
        query = query.where(_event_key(event))
    elif all_dead:
        query = query.where(T.c.status == OutboxStatus.DEAD.value)
    else:
        raise ValueError("name an event or ask for all dead events")
    result = {"requeued": 0, "superseded": 0}
    for row in (await session.execute(query.order_by(T.c.seq))).all():
        e = T.alias("later")
        replaced = (await session.execute(sa.select(sa.exists().where(
            e.c.seq > row.seq, e.c.subject_type == row.subject_type, e.c.subject_id == row.subject_id,
            e.c.event_type == row.event_type, e.c.status == OutboxStatus.SENT.value)))).scalar()
        if replaced:
            values: dict[str, Any] = {"status": OutboxStatus.SUPERSEDED.value,
                                      "last_error": f"replaced by a later delivered version ({row.last_error})"}
            result["superseded"] += 1
        else:
            # The last answer stays until the next one replaces it (and tells the dispatcher to re-read the
            # hospital's records rather than its cache).
            values = {"status": OutboxStatus.PENDING.value, "method": None, "business_id": None, "depends_on": None,
                      "attempts": 0, "next_attempt_at": now, "last_error": None, "lease_owner": None,
                      "lease_until": None, "response": row.response or {"requeued": True}}
            result["requeued"] += 1
        await session.execute(sa.update(T).where(T.c.seq == row.seq).values(**values))
    await session.commit()
    return result


def _event_key(event: str) -> Any:
    if event.isdigit():
        return T.c.seq == int(event)
    try:
        return T.c.id == uuid.UUID(event)
    except ValueError:
        return T.c.idempotency_key == event


async def ensure_daily_check_ins(factory: async_sessionmaker[AsyncSession], now: datetime,
                                 settings: ConnectorSettings) -> int:
    """Add the `supervision.daily_disputes` event of each finished day not yet covered (at most a week back;
    a fresh install starts with yesterday). Two dispatchers racing add it once (unique idempotency key)."""
    tz = settings.tz
    local = now.astimezone(tz)
    latest = local.date() - timedelta(days=1 if local.time() >= settings.batch_at else 2)
    async with factory() as session:
        last = (await session.execute(sa.select(sa.func.max(T.c.subject_id)).where(
            T.c.event_type == DAILY_DISPUTES))).scalar()
        await session.rollback()
    first = latest if last is None else max(datetime.fromisoformat(last).date() + timedelta(days=1),
                                            latest - timedelta(days=6))
    added = 0
    day = first
    while day <= latest:
        start, end = day_bounds(day, tz)
        async with factory() as session:
            disputes = (await session.execute(sa.select(sa.func.count()).where(
                T.c.event_type.in_(DISPUTE_EVENTS),
                T.c.created_at >= start, T.c.created_at < end))).scalar_one()
            try:
                await emit(session, DAILY_DISPUTES, subject_type="dispute_day", subject_id=day.isoformat(),
                           payload=DailyDisputes(day=day, dispute_events=disputes))
                await session.commit()
                added += 1
            except IntegrityError:
                await session.rollback()
        day += timedelta(days=1)
    return added


def readiness_probe(engine: AsyncEngine, threshold_s: float) -> Callable[[], Awaitable[str]]:
    """For `/ready`: "ok", or the connector's lag and its oldest event when the lag exceeds `threshold_s`."""
    factory = async_sessionmaker(engine, expire_on_commit=False)

    async def probe() -> str:
        async with factory() as session:
            lag, oldest = await _lag(session, utcnow())
            await session.rollback()
        if lag is None or lag <= threshold_s:
            return "ok"
        return (f"supervision connector lag {lag:.0f} s over {threshold_s:.0f} s (oldest event #{oldest.seq} "
                f"{oldest.event_type}, {oldest.status}, {oldest.last_error or 'not yet sent'})")

    return probe


def install_readiness_probe(state: Any, engine: AsyncEngine, settings: ConnectorSettings) -> None:
    """Register the probe on `app.state.readiness_probes` when a platform is configured."""
    if not settings.configured:
        return
    probes = getattr(state, "readiness_probes", None)
    if probes is None:
        probes = {}
        state.readiness_probes = probes
    probes["supervision_connector"] = readiness_probe(engine, settings.lag_threshold_s)
