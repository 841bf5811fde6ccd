"""The `hospital` command: serve, demo, migrate, audit verify, rules (and each area's own groups)."""

from __future__ import annotations

import asyncio
import json
import sys

import click

from hospital.config import load_settings
from hospital.db import create_engine, migrate, session_factory

__all__ = ["main"]


@click.group()
def main() -> None:
    """The reference internet hospital."""


def _serve(host: str, port: int, seed: bool) -> None:
    import uvicorn

    from hospital.app import create_app
    from hospital.wiring import wired_context

    settings = load_settings()
    settings.check()
    migrate(settings.resolved_database_url)
    ctx = wired_context(settings)  # the demo seed admits clinicians: signing issues their keys
    if seed:
        asyncio.run(_seed(ctx))
    uvicorn.run(create_app(settings, ctx), host=host, port=port, log_level="info")


async def _seed(ctx: object) -> None:
    from hospital.biometrics.pool import FacePool
    from hospital.biometrics.settings import FaceSettings
    from hospital.context import HospitalContext
    from hospital.demo import seed_demo

    assert isinstance(ctx, HospitalContext)
    engine = create_engine(ctx.settings.resolved_database_url)
    ctx.faces = FacePool(FaceSettings(workers=0))  # seeding enrols two faces inline, before the server's pool
    try:
        await ctx.faces.start()
        async with session_factory(engine)() as session:
            seeded = await seed_demo(session, ctx)
        click.echo("demo data seeded" if seeded else "demo data already present")
    finally:
        await ctx.faces.close()
        ctx.faces = None
        await engine.dispose()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Apply migrations and serve the hospital."""
    _serve(host, port, seed=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Apply migrations, seed the demo data on first start, and serve."""
    _serve(host, port, seed=True)


@main.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations up to head."""
    settings = load_settings()
    migrate(settings.resolved_database_url)
    click.echo(f"migrated {settings.resolved_database_url.split('@')[-1]}")


@main.group()
def audit() -> None:
    """The audit trail (AUD-01)."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first broken entry."""
    from hospital.core.audit import verify_chain

    async def run() -> tuple[int, object]:
        engine = create_engine(load_settings().resolved_database_url)
        try:
            async with session_factory(engine)() as session:
                return await verify_chain(session)
        finally:
            await engine.dispose()

    checked, broken = asyncio.run(run())
    if broken is None:
        click.echo(json.dumps({"ok": True, "entries": checked}))
        return
    click.echo(json.dumps({"ok": False, "entries_checked": checked, "first_broken_seq": broken.seq,  # type: ignore[attr-defined]
                           "reason": broken.reason}), err=False)  # type: ignore[attr-defined]
    click.echo(f"audit chain broken at entry {broken.seq}: {broken.reason}", err=True)  # type: ignore[attr-defined]
    sys.exit(1)


@main.command("rules")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per rule.")
def rules_command(as_json: bool) -> None:
    """List every registered rule with its requirement ID and source clause."""
    from hospital.rules_index import load_all_rules

    for r in load_all_rules():
        if as_json:
            click.echo(json.dumps({"rule_id": r.rule_id, "title": r.title, "source": r.source,
                                   "function": r.qualname}, ensure_ascii=False))
        else:
            click.echo(f"{r.rule_id:9} {r.title}  [{r.source}]  {r.qualname}")


def _register_area_commands() -> None:
    """Each area and connector keeps its own click group; the `hospital` command gathers them."""
    from connectors.supervision.cli import connector
    from connectors.supervision.gateway.cli import gateway
    from connectors.supervision.simulator.cli import supervision_sim
    from hospital.biometrics.cli import face
    from hospital.prescriptions.formulary.cli import formulary
    from hospital.retention.cli import retention
    from hospital.security.cli import security
    from hospital.signing.cli import rx

    main.add_command(connector)
    main.add_command(gateway)
    main.add_command(supervision_sim)
    main.add_command(face)
    main.add_command(formulary)
    main.add_command(rx)
    main.add_command(retention)
    main.add_command(security)


_register_area_commands()
