"""`hospital retention …`: what the retention periods allow to be purged (REC-02)."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from hospital.retention.service import PurgeReport

__all__ = ["retention"]


@click.group()
def retention() -> None:
    """Retention of records (REC-02): EMR 15 years, chat and audio/video 3 years; the audit trail is kept."""


async def _run(execute: bool, as_of: date | None) -> PurgeReport:
    from hospital.config import load_settings
    from hospital.core.audit import Actor
    from hospital.core.leases import job_lease, runner_name
    from hospital.db import create_engine, session_factory
    from hospital.retention.service import PURGE_LEASE, find_due, purge_due
    from hospital.wiring import wired_context

    settings = load_settings()
    ctx = wired_context(settings)
    engine = create_engine(settings.resolved_database_url)
    try:
        if not execute:
            async with session_factory(engine)() as session:
                return await find_due(session, as_of or ctx.today())
        # One purge at a time, whoever starts it (a CronJob, an operator, a backup holding it): the job lease.
        async with job_lease(engine, PURGE_LEASE, runner_name(), ttl=timedelta(hours=1), now=ctx.now()) as lease:
            if not lease.held:
                raise click.ClickException(f"another retention purge or a backup is running ({lease.holder or 'a runner'}"
                                           " holds the lease): nothing purged")
            async with session_factory(engine)() as session:
                return await purge_due(session, ctx, Actor.system("retention-purge"))
    finally:
        await engine.dispose()


@retention.command("purge")
@click.option("--dry-run/--execute", "dry_run", default=True, show_default=True,
              help="List what is due (default), or purge it.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Dry run only: list what will be due on this date.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
def purge(dry_run: bool, as_of: datetime | None, as_json: bool) -> None:
    """List (or purge) chat messages, medical records, prior diagnoses and blobs past their retention date.
    Nothing is purged before its date; a blob a record still names is held."""
    if as_of is not None and not dry_run:
        raise click.UsageError("--as-of is for dry runs: --execute purges only what is due today")
    report = asyncio.run(_run(not dry_run, as_of.date() if as_of else None))
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    verb = "purged" if report.executed else "due"
    for item in report.due:
        click.echo(f"{verb:7} {item.kind:15} {item.key}  {item.retention_class}  not before {item.purge_not_before}")
    for item in report.held:
        click.echo(f"held    {item.kind:15} {item.key}  named by {item.held_by}")
    click.echo(f"{len(report.due)} {verb}, {len(report.held)} held, as of {report.as_of.isoformat()}"
               f"{'' if report.executed else ' (dry run: nothing purged)'}")
