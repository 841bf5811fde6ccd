"""`hospital connector run|status|requeue|file-catalogue`: the supervision platform connector (SUP-01…04)."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from typing import Any

import click

from connectors.supervision.settings import ConnectorSettings, SupervisionConfigError, load_connector_settings
from hospital.config import load_settings
from hospital.db import create_engine, session_factory

__all__ = ["connector"]


@click.group(name="connector")
def connector() -> None:
    """The supervision platform connector: deliver the outbox, show its state, re-queue fixed events."""


def _settings() -> ConnectorSettings:
    try:
        settings = load_connector_settings()
        settings.check()
    except SupervisionConfigError as exc:
        raise click.ClickException(exc.detail) from exc
    return settings


@connector.command("run")
@click.option("--no-catalogue", is_flag=True, help="Do not file the drug catalogue at start when it changed.")
def run(no_catalogue: bool) -> None:
    """Deliver outbox events to the platform until SIGTERM or SIGINT (env HOSPITAL_SUPERVISION_*)."""
    settings = _settings()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would drown the dead letters
    asyncio.run(_run(settings, file_first=not no_catalogue))


async def _run(settings: ConnectorSettings, *, file_first: bool) -> None:
    from connectors.supervision.catalogue import file_catalogue
    from connectors.supervision.runner import open_dispatcher

    hospital = load_settings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with open_dispatcher(hospital, settings) as dispatcher:
        if file_first:
            async with dispatcher.session() as session:
                if await file_catalogue(session):
                    click.echo("drug catalogue changed: filed again", err=True)
        click.echo(f"connector {dispatcher.name} delivering to {settings.url} ({settings.mode.value})", err=True)
        await dispatcher.run(stop)


async def _with_session(work: Any, *, writes: bool = True) -> Any:
    # Only reading (status) must not wait for, or hold, SQLite's write lock.
    engine = create_engine(load_settings().resolved_database_url, immediate=writes)
    try:
        async with session_factory(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


@connector.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def status(as_json: bool) -> None:
    """Lag, pending, retrying, dead-lettered and parked counts, the oldest waiting event, the dead letters."""
    from connectors.supervision.operations import connector_status

    found = asyncio.run(_with_session(connector_status, writes=False))
    if as_json:
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False, default=str))
        return
    c = found.counts
    lag = "none" if found.lag_s is None else f"{found.lag_s:.1f} s"
    click.echo(f"lag {lag}; pending {c['pending']} (waiting {found.waiting}), retrying {c['retrying']}, "
               f"dead {c['dead']}, parked {c['parked']}, sent {c['sent']}, skipped {c['skipped']}, "
               f"superseded {c['superseded']}")
    if found.delivery_lag_p50_s is not None:
        click.echo(f"delivery lag (last 1000): p50 {found.delivery_lag_p50_s} s, p99 {found.delivery_lag_p99_s} s")
    if found.oldest:
        o = found.oldest
        click.echo(f"oldest: #{o['seq']} {o['event_type']} since {o['created_at']} ({o['status']}, "
                   f"{o['attempts']} attempts){': ' + o['last_error'] if o['last_error'] else ''}")
    for d in found.dead:
        click.echo(f"dead: #{d['seq']} {d['id']} {d['event_type']} ({d['subject']}): {d['error']}")
    for event_type, n in found.parked_types.items():
        click.echo(f"parked: {n} × {event_type} (no mapper yet)")


@connector.command("requeue")
@click.argument("event", required=False)
@click.option("--all-dead", is_flag=True, help="Re-queue every dead-lettered event.")
def requeue_command(event: str | None, all_dead: bool) -> None:
    """Send a dead (or parked) EVENT again (seq, id or idempotency key), or every dead one, once fixed."""
    from connectors.supervision.operations import requeue

    if (event is None) == (not all_dead):
        raise click.UsageError("give EVENT_ID or --all-dead (not both)")

    async def work(session: Any) -> dict[str, int]:
        return await requeue(session, event=event, all_dead=all_dead)

    result = asyncio.run(_with_session(work))
    click.echo(json.dumps(result))
    if event is not None and not any(result.values()):
        click.echo(f"no dead or parked event {event}", err=True)
        sys.exit(1)


@connector.command("file-catalogue")
def file_catalogue_command() -> None:
    """Queue the drug catalogue for filing when it changed since the last filing."""
    from connectors.supervision.catalogue import file_catalogue

    filed = asyncio.run(_with_session(file_catalogue))
    click.echo("catalogue queued" if filed else "catalogue unchanged")
