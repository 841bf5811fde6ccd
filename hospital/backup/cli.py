"""`hospital backup ARCHIVE` and `hospital restore ARCHIVE` (docs/operations.md)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

__all__ = ["backup", "restore"]


@click.command("backup")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
def backup(archive: Path) -> None:
    """Write the database and the blob store, consistent with each other, to one archive with a manifest."""
    from hospital.backup.service import BackupRefused, take_backup
    from hospital.config import load_settings

    try:
        manifest = asyncio.run(take_backup(load_settings(), archive))
    except BackupRefused as exc:
        click.echo(f"backup failed: {exc}", err=True)
        sys.exit(1)
    click.echo(json.dumps({"archive": str(archive), "backup_id": manifest.backup_id, "engine": manifest.engine,
                           "revision": manifest.revision, "blobs": len(manifest.blobs),
                           "missing_blobs": manifest.missing_blobs, "audit_entries": manifest.audit_entries,
                           "outbox_undelivered": manifest.outbox_undelivered}))
    if manifest.missing_blobs:
        click.echo(f"warning: {len(manifest.missing_blobs)} blob(s) named by the database were not on disk",
                   err=True)


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def restore(archive: Path) -> None:
    """Restore an archive of `hospital backup` into an empty database and data directory, then migrate."""
    from hospital.backup.service import BackupRefused, restore_backup
    from hospital.config import load_settings

    try:
        report = asyncio.run(restore_backup(load_settings(), archive))
    except BackupRefused as exc:
        click.echo(f"restore refused: {exc}", err=True)
        sys.exit(1)
    manifest = report.manifest
    click.echo(json.dumps({"archive": str(archive), "backup_id": manifest.backup_id, "taken_at": manifest.taken_at,
                           "blobs": len(manifest.blobs), "revision": report.revision_after}))
