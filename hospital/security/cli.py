"""`hospital security scan | incidents`: the SEC-02 scan by hand (or from cron), and the register."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

__all__ = ["security"]


@click.group()
def security() -> None:
    """Leak detection and security incidents (SEC-02)."""


async def _with_session(use: Any) -> Any:
    from hospital.config import load_settings
    from hospital.db import create_engine, session_factory
    from hospital.wiring import wired_context

    settings = load_settings()
    ctx = wired_context(settings)
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            return await use(session, ctx)
    finally:
        await engine.dispose()


@security.command("scan")
def scan_command() -> None:
    """Walk the whole audit chain and the trail's look-back; open an incident per new finding. Prints JSON;
    exit 0, or 3 when it opened or updated an incident (for cron to alert on)."""
    from hospital.core.audit import Actor
    from hospital.security.detection import service

    report = asyncio.run(_with_session(lambda s, ctx: service.scan(s, ctx, Actor.system("security-scan"))))
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    if report.opened or report.updated:
        raise SystemExit(3)


@security.command("incidents")
@click.option("--all", "show_all", is_flag=True, help="Closed incidents too.")
def incidents_command(show_all: bool) -> None:
    """The incident register as JSON lines, unfinished first; `overdue` marks a report past its deadline."""
    from hospital.security.incidents import service

    for view in asyncio.run(_with_session(service.list_incidents)):
        if show_all or view["status"] != "closed":
            click.echo(json.dumps(view, ensure_ascii=False))
