"""The `hospital` command: serve, demo, migrate, audit verify, rules (and each area's own groups)."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys

import click

from hospital.config import load_settings

__all__ = ["main"]

# Each area and connector keeps its own click group; the `hospital` command imports one only to run it, so that
# `hospital --help` and the core commands load no area (litestar, SQLAlchemy, PIL, numpy...). Name, module,
# attribute, and the summary `hospital --help` shows without importing the area: the group's own one-line help
# (tests/unit/test_cli.py checks that they agree).
_AREA_COMMANDS: dict[str, tuple[str, str, str]] = {
    "connector": ("connectors.supervision.cli", "connector",
                  "The supervision platform connector: deliver the outbox, show its state, re-queue fixed events."),
    "gateway": ("connectors.supervision.gateway.cli", "gateway",
                "The supervision gateway's SM4-CBC body cipher (fixed IV, ISO/IEC 7816-4 padding, lowercase hex)."),
    "supervision-sim": ("connectors.supervision.simulator.cli", "supervision_sim",
                        "Serve the simulated provincial supervision platform: the protocol at POST /openapi/api, "
                        "admin under /sim/."),
    "face": ("hospital.biometrics.cli", "face", "Face enrolment and verification (FACE-01, FACE-02)."),
    "formulary": ("hospital.prescriptions.formulary.cli", "formulary", "The formulary tables (RX-02, RX-03, RX-04)."),
    "rx": ("hospital.prescriptions.printing.cli", "rx", "Prescription signatures (RX-05, RX-06)."),
    "device-key": ("hospital.signing.cli", "device_key",
                   "A clinician's signing device key for scripts and clients (RX-05): new, prove, sign."),
    "retention": ("hospital.retention.cli", "retention",
                  "Retention of records (REC-02): EMR 15 years, chat and audio/video 3 years; the audit trail is kept."),
    "security": ("hospital.security.cli", "security", "Leak detection and security incidents (SEC-02)."),
    "conformance": ("hospital.conformance.cli", "conformance",
                    "The conformance kit: requirement → rule → test matrix, proof by removal, the scenario suite."),
    "video": ("hospital.video.cli", "video", "Video consultations: recordings that failed to store (REC-02)."),
    "backup": ("hospital.backup.cli", "backup",
               "Write the database and the blob store, consistent with each other, to one archive with a manifest."),
    "restore": ("hospital.backup.cli", "restore",
                "Restore an archive of `hospital backup` into an empty database and data directory, then migrate."),
}


class _Hospital(click.Group):
    """A group whose area commands are imported when they are run (or asked for their own help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_AREA_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in _AREA_COMMANDS:
            module, attribute, _ = _AREA_COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing, with the summaries of areas not imported yet taken from `_AREA_COMMANDS`."""
        listed: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            if name not in self.commands and name in _AREA_COMMANDS:  # a stand-in that only carries the summary
                listed.append((name, click.Command(name, help=_AREA_COMMANDS[name][2])))
            elif (command := self.get_command(ctx, name)) is not None and not command.hidden:
                listed.append((name, command))
        if not listed:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in listed)
        rows = [(name, command.get_short_help_str(limit)) for name, command in listed]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_Hospital)
def main() -> None:
    """The reference internet hospital."""


def _serve(host: str, port: int, seed: bool) -> None:
    import uvicorn

    from hospital.institution.reference import require_own_disclosure
    from hospital.web.boot import ASGIApp, BootingApp

    settings = load_settings()
    settings.check()
    require_own_disclosure(settings)  # INS-03, before anything is migrated or seeded

    def build() -> ASGIApp:
        """Imports, migrations and the app: after the port is open (issue 22), /ready red until done."""
        from hospital.app import create_app
        from hospital.db import migrate
        from hospital.wiring import wired_context

        migrate(settings.resolved_database_url)
        ctx = wired_context(settings)  # the demo seed admits and suspends through the wired subscribers
        platform = None
        if seed:
            from connectors.supervision.demo import DemoPlatform
            from connectors.supervision.settings import load_connector_settings

            if not load_connector_settings().configured and not settings.is_production:
                platform = DemoPlatform(settings)  # the demo reports to its own simulator (docs/connector.md)
        # The demo is seeded by the running app, in the background: /ready says when it is done.
        return create_app(settings, ctx, seed_demo=seed, demo_platform=platform)  # type: ignore[return-value]

    tls = {"ssl_certfile": settings.tls_cert_file, "ssl_keyfile": settings.tls_key_file} if settings.serves_tls else {}
    server: uvicorn.Server | None = None

    def stop() -> None:
        if server is not None:
            server.should_exit = True

    booting = BootingApp(build, hsts=settings.behind_tls, on_failure=stop)
    server = uvicorn.Server(uvicorn.Config(booting, host=host, port=port, log_level="info", **tls))  # type: ignore[arg-type]
    server.run()
    if booting.failed is not None:
        raise SystemExit(f"the hospital could not start: {booting.failed}")


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


@main.command("media-worker")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8100, show_default=True, type=int)
def media_worker(host: str, port: int) -> None:
    """Run video calls' media (aiortc rooms, recordings, face watch) for the app replicas (docs/operations.md)."""
    import socket

    import uvicorn

    from hospital.core.leases import runner_name
    from hospital.db import migrate
    from hospital.media_worker import create_media_worker_app
    from hospital.wiring import wired_context

    settings = load_settings()
    settings.check()
    migrate(settings.resolved_database_url)  # whichever starts first migrates (an advisory lock on PostgreSQL)
    reachable = socket.gethostname() if host in ("0.0.0.0", "::") else host  # nosec B104: a comparison, not a bind
    url = settings.media_worker_url or f"http://{reachable}:{port}"
    worker_id = settings.media_worker_id or runner_name()
    app = create_media_worker_app(settings, wired_context(settings), worker_id=worker_id, url=url)
    uvicorn.run(app, host=host, port=port, log_level="info")


@main.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations up to head."""
    from hospital.db import migrate

    settings = load_settings()
    migrate(settings.resolved_database_url)
    click.echo(f"migrated {settings.resolved_database_url.split('@')[-1]}")


@main.group()
def audit() -> None:
    """The audit trail (AUD-01)."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the hash chain and check it against the latest signed checkpoint; exit 1 naming the first broken
    entry, the entries missing from the tail, or the entry changed since the checkpoint."""
    from hospital.core.audit import verify_chain
    from hospital.core.audit_anchor import TailFinding, check_against, checkpoint_store
    from hospital.db import create_engine, session_factory

    settings = load_settings()

    async def run() -> dict[str, object]:
        engine = create_engine(settings.resolved_database_url, immediate=False)
        try:
            async with session_factory(engine)() as session:
                checked, broken = await verify_chain(session)
                tail: TailFinding | None
                try:
                    checkpoint = checkpoint_store(settings.data_dir).latest()
                except ValueError as forged:  # a checkpoint file the audit key did not sign
                    checkpoint, tail = None, TailFinding("forged_checkpoint", str(forged), 0, 0)
                else:
                    tail = await check_against(session, checkpoint) if checkpoint is not None else None
        finally:
            await engine.dispose()
        result: dict[str, object] = {"ok": broken is None and tail is None, "entries": checked,
                                     "checkpoint": None if checkpoint is None else
                                     {"head_seq": checkpoint.head_seq, "at": checkpoint.at}}
        if broken is not None:
            result.update(first_broken_seq=broken.seq, reason=broken.reason)
        if tail is not None:
            result.update(tail=tail.kind, tail_first_seq=tail.first_seq, tail_last_seq=tail.last_seq,
                          tail_detail=tail.detail)
        return result

    result = asyncio.run(run())
    click.echo(json.dumps(result, ensure_ascii=False))
    if result["ok"]:
        return
    if "first_broken_seq" in result:
        click.echo(f"audit chain broken at entry {result['first_broken_seq']}: {result['reason']}", err=True)
    if "tail" in result:
        click.echo(f"audit chain against its checkpoint: {result['tail_detail']}", err=True)
    sys.exit(1)


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign where the chain's head is now and store it outside the database (<data dir>/blobs/audit-checkpoints)."""
    from hospital.core.audit_anchor import checkpoint_store, take_checkpoint
    from hospital.core.clock import utcnow
    from hospital.db import create_engine, session_factory

    settings = load_settings()

    async def run() -> object:
        engine = create_engine(settings.resolved_database_url, immediate=False)
        try:
            async with session_factory(engine)() as session:
                return await take_checkpoint(session, checkpoint_store(settings.data_dir), utcnow())
        finally:
            await engine.dispose()

    checkpoint = asyncio.run(run())
    click.echo(json.dumps(None if checkpoint is None else {
        "head_seq": checkpoint.head_seq, "head_hash": checkpoint.head_hash,  # type: ignore[attr-defined]
        "entries": checkpoint.entries, "at": checkpoint.at}))  # type: ignore[attr-defined]


@main.command("rules")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per rule, with its texts in both languages.")
@click.option("--lang", "language", type=click.Choice(["en", "zh-CN"]), default="en", show_default=True,
              help="The language of the titles listed (the catalogue hospital/core/data/rule_texts.json).")
def rules_command(as_json: bool, language: str) -> None:
    """List every registered rule with its requirement ID and source clause."""
    from hospital.core.messages import rule_text
    from hospital.rules_index import load_all_rules

    for r in load_all_rules():
        zh, en = rule_text(r.qualname, r.title, "zh-CN"), rule_text(r.qualname, r.title, "en")
        if as_json:
            click.echo(json.dumps({"rule_id": r.rule_id, "title": r.title, "source": r.source, "function": r.qualname,
                                   "title_zh": zh.title if zh else None,
                                   "action": {"zh-CN": zh.detail if zh else None, "en": en.detail if en else None}},
                                  ensure_ascii=False))
        else:
            title = zh.title if language == "zh-CN" and zh else r.title
            click.echo(f"{r.rule_id:9} {title}  [{r.source}]  {r.qualname}")
