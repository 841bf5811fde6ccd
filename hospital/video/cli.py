"""`hospital video …`: the video consultations' recordings (REC-02)."""

from __future__ import annotations

import asyncio
import json

import click

__all__ = ["video"]


@click.group()
def video() -> None:
    """Video consultations: recordings that failed to store (REC-02)."""


@video.group()
def recordings() -> None:
    """A video visit's recordings."""


async def _retry(execute: bool) -> list[dict[str, object]]:
    from hospital.config import load_settings
    from hospital.db import create_engine, session_factory
    from hospital.video.service import failed_recordings, retry_recording
    from hospital.wiring import wired_context

    settings = load_settings()
    ctx = wired_context(settings)
    engine = create_engine(settings.resolved_database_url)
    done: list[dict[str, object]] = []
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            pending = await failed_recordings(session, ctx)
        for failed in pending:
            line: dict[str, object] = {"visit_id": str(failed.visit_id), "role": failed.role, "path": str(failed.path),
                                       "recorded_on": failed.recorded_on.isoformat()}
            if execute:
                try:
                    async with sessions() as session:
                        stored = await retry_recording(session, ctx, failed)
                    line |= {"stored": True, "sha256": stored.recording_sha256, "size": stored.size}
                except Exception as exc:
                    line |= {"stored": False, "error": f"{type(exc).__name__}: {exc}"}
            done.append(line)
    finally:
        await engine.dispose()
    return done


@recordings.command("retry")
@click.option("--dry-run/--execute", "dry_run", default=False, show_default=True,
              help="Only list the recordings that failed to store, or store them (default).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
def retry(dry_run: bool, as_json: bool) -> None:
    """Store the recordings that failed to store and whose files are still kept; each is audited and its
    file deleted once stored."""
    results = asyncio.run(_retry(not dry_run))
    if as_json:
        click.echo(json.dumps({"executed": not dry_run, "recordings": results}, ensure_ascii=False))
    else:
        for r in results:
            state = "pending" if dry_run else ("stored " if r.get("stored") else "FAILED ")
            click.echo(f"{state} {r['visit_id']} {r['role']:7} {r['path']}  {r.get('error', '')}".rstrip())
        click.echo(f"{len(results)} recording(s) {'waiting' if dry_run else 'tried'}")
    if any(r.get("stored") is False for r in results):
        raise SystemExit(1)
