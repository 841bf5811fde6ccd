"""`take_backup` and `restore_backup`: the database and the blob store in one tar archive, consistent with each
other, with a manifest of every member's SHA-256.

Consistency: blobs are written before the row that names them is committed and never rewritten (their name is
the hash of their content), so a snapshot of the database names only blobs already on disk. The backup takes the
snapshot first (SQLite's online backup API; on PostgreSQL `pg_dump --snapshot` of an exported snapshot, whose
blob rows the same transaction reads), then archives exactly the blobs that snapshot names. A blob purged in
between (the retention job) is listed as missing in the manifest, never silently left out.

Neither the field key nor the key passphrase is in the archive (keep them apart from it): the manifest carries
an HMAC check of the field key, and a restore under another key is refused before anything is written.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import shutil
import sqlite3
import subprocess  # nosec B404: pg_dump/pg_restore only, argument lists, never a shell (see _run)
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hospital.backup.rules import archive_problems, blob_member
from hospital.backup.values import FORMAT, ArchivedFile, Manifest
from hospital.config import Settings
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import Conflict
from hospital.core.leases import job_lease, runner_name
from hospital.db import create_engine, is_sqlite, migrate, session_factory
from hospital.retention.service import PURGE_LEASE

__all__ = ["BackupRefused", "RestoreReport", "key_check", "restore_backup", "take_backup"]

MANIFEST = "manifest.json"
_CHUNK = 1 << 20


class BackupRefused(Conflict):
    """A backup or restore that cannot be done as asked; nothing was written (a 409 Conflict, as a mapped class)."""


@dataclass(frozen=True, slots=True)
class RestoreReport:
    manifest: Manifest
    revision_after: str | None


def key_check(settings: Settings) -> str:
    """An HMAC of a constant under the field key: tells whether two keys are the same without storing either."""
    return hmac.new(settings.field_key, b"hospital-backup field key check", hashlib.sha256).hexdigest()[:32]


def _engine_name(url: str) -> str:
    return "sqlite" if is_sqlite(url) else "postgresql"


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump / pg_restore take it (no driver, password kept). asyncpg's `ssl=` (production
    reaches PostgreSQL over TLS, REC-03) is libpq's `sslmode=`: libpq refuses an `ssl` parameter."""
    parsed = make_url(url)
    query = dict(parsed.query)
    if "ssl" in query:
        mode = query.pop("ssl")
        query.setdefault("sslmode", mode)
    return parsed.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise BackupRefused("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _file_entry(path: Path, member: str) -> ArchivedFile:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return ArchivedFile(member, digest.hexdigest(), size)


# --- backup ----------------------------------------------------------------------------------------------------

async def _record(settings: Settings, action: str, detail: dict[str, Any]) -> None:
    """One audit entry in its own transaction (a backup reads every patient's data; a restore replaces it)."""
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            await append_audit(session, Actor.system("backup"), action, subject_type="backup",
                               subject_id=detail["backup_id"], detail=detail)
            await session.commit()
    finally:
        await engine.dispose()


def _sqlite_snapshot(url: str, into: Path) -> None:
    source = sqlite3.connect(_sqlite_path(url))
    target = sqlite3.connect(into)
    try:
        source.backup(target)  # the online backup API: a consistent copy while the hospital writes
    finally:
        target.close()
        source.close()


def _sqlite_summary(path: Path) -> tuple[list[str], str | None, dict[str, Any]]:
    db = sqlite3.connect(path)
    try:
        blobs = [row[0] for row in db.execute("SELECT sha256 FROM blob ORDER BY sha256")]
        return blobs, _one(db.execute("SELECT version_num FROM alembic_version").fetchall()), _counts(
            *db.execute("SELECT count(*), (SELECT entry_hash FROM audit_entry ORDER BY seq DESC LIMIT 1) "
                        "FROM audit_entry").fetchone(),
            *db.execute("SELECT count(*), coalesce(sum(CASE WHEN status IN ('pending', 'retrying') THEN 1 ELSE 0 END), 0) "
                        "FROM outbox_event").fetchone())
    finally:
        db.close()


def _one(rows: list[Any]) -> str | None:
    return str(rows[0][0]) if rows else None


def _counts(entries: int, last_hash: str | None, events: int, undelivered: int) -> dict[str, Any]:
    return {"audit_entries": int(entries), "audit_last_hash": last_hash, "outbox_events": int(events),
            "outbox_undelivered": int(undelivered)}


async def _postgres_snapshot(url: str, into: Path) -> tuple[list[str], str | None, dict[str, Any]]:
    """pg_dump of an exported snapshot; the blob rows, revision and counts read in the same snapshot."""
    import asyncpg

    conn = await asyncpg.connect(_libpq_url(url))
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            blobs = [r["sha256"] for r in await conn.fetch("SELECT sha256 FROM blob ORDER BY sha256")]
            revision = await conn.fetchval("SELECT version_num FROM alembic_version")
            audit = await conn.fetchrow("SELECT count(*) AS n, (SELECT entry_hash FROM audit_entry ORDER BY seq DESC "
                                        "LIMIT 1) AS last FROM audit_entry")
            outbox = await conn.fetchrow("SELECT count(*) AS n, count(*) FILTER (WHERE status IN ('pending', 'retrying')) AS u "
                                         "FROM outbox_event")
            await _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                        f"--file={into}", f"--dbname={_libpq_url(url)}"])
    finally:
        await conn.close()
    return blobs, revision, _counts(audit["n"], audit["last"], outbox["n"], outbox["u"])


async def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupRefused(f"{command[0]} is not installed (Debian: postgresql-client, of the server's version)")
    # The program is a fixed name (pg_dump/pg_restore/psql) and each argument one list item: no shell parses them.
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupRefused(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


async def take_backup(settings: Settings, archive: Path) -> Manifest:
    """Write `archive` (a tar file, replaced atomically) holding the database, the blobs it names and the
    manifest; the backup is audited in the chain it archives."""
    url = settings.resolved_database_url
    engine_name = _engine_name(url)
    backup_id = str(uuid.uuid4())
    taken_at = datetime.now(UTC).isoformat(timespec="seconds")
    engine = create_engine(url)
    try:
        # The retention purge's lease, held for the whole backup: no blob the snapshot names is purged meanwhile.
        async with job_lease(engine, PURGE_LEASE, runner_name(), ttl=timedelta(hours=2),
                             now=datetime.now(UTC)) as lease:
            if not lease.held:
                raise BackupRefused(f"a retention purge is running ({lease.holder or 'a runner'} holds its lease): "
                                    "take the backup when it has ended")
            await _record(settings, "backup.taken", {"backup_id": backup_id, "archive": archive.name})
            return await _snapshot_and_archive(settings, archive, {
                "format": FORMAT, "backup_id": backup_id, "taken_at": taken_at, "engine": engine_name,
                "field_key_check": key_check(settings)})
    finally:
        await engine.dispose()


async def _snapshot_and_archive(settings: Settings, archive: Path, head: dict[str, Any]) -> Manifest:
    url = settings.resolved_database_url
    engine_name = head["engine"]
    blob_root = settings.data_dir / "blobs"
    with tempfile.TemporaryDirectory(prefix="hospital-backup-") as scratch:
        dump = Path(scratch) / ("database.sqlite" if engine_name == "sqlite" else "database.pgdump")
        if engine_name == "sqlite":
            await asyncio.to_thread(_sqlite_snapshot, url, dump)
            blobs, revision, counts = await asyncio.to_thread(_sqlite_summary, dump)
        else:
            blobs, revision, counts = await _postgres_snapshot(url, dump)
        return await asyncio.to_thread(_write_archive, archive, dump, blob_root, blobs,
                                       {**head, "revision": revision, **counts})


def _write_archive(archive: Path, dump: Path, blob_root: Path, blobs: list[str], head: dict[str, Any]) -> Manifest:
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    database = _file_entry(dump, dump.name)
    archived: list[ArchivedFile] = []
    missing: list[str] = []
    with tarfile.open(partial, "w") as tar:
        tar.add(dump, arcname=database.path)
        for sha256 in blobs:
            path = blob_root / sha256[:2] / sha256[2:]
            if not path.is_file():
                missing.append(sha256)
                continue
            entry = _file_entry(path, blob_member(sha256))
            tar.add(path, arcname=entry.path)
            archived.append(entry)
        manifest = Manifest(database=database, blobs=archived, missing_blobs=missing, **head)
        data = msgspec.json.format(msgspec.json.encode(manifest), indent=2)
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        info.mtime = int(datetime.now(UTC).timestamp())
        tar.addfile(info, _bytes_reader(data))
    partial.replace(archive)
    return manifest


def _bytes_reader(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


# --- restore ---------------------------------------------------------------------------------------------------

@contextmanager
def _unpacked(archive: Path) -> Iterator[tuple[Path, Manifest, dict[str, tuple[str, int]]]]:
    """The archive unpacked into a scratch directory, its manifest, and each member's (sha256, size)."""
    if not archive.is_file():
        raise BackupRefused(f"{archive}: no such archive")
    with tempfile.TemporaryDirectory(prefix="hospital-restore-") as scratch:
        root = Path(scratch)
        try:
            with tarfile.open(archive, "r") as tar:
                tar.extractall(root, filter="data")  # no absolute paths, links or devices out of the archive
        except (tarfile.TarError, OSError) as exc:
            raise BackupRefused(f"{archive}: not a readable archive ({exc})") from exc
        manifest_path = root / MANIFEST
        if not manifest_path.is_file():
            raise BackupRefused(f"{archive}: no {MANIFEST}")
        try:
            manifest = msgspec.json.decode(manifest_path.read_bytes(), type=Manifest)
        except msgspec.ValidationError as exc:
            raise BackupRefused(f"{archive}: the manifest is malformed ({exc})") from exc
        members = {}
        for path in root.rglob("*"):
            if path.is_file() and path != manifest_path:
                entry = _file_entry(path, path.relative_to(root).as_posix())
                members[entry.path] = (entry.sha256, entry.size)
        yield root, manifest, members


async def _target_is_empty(url: str) -> bool:
    if is_sqlite(url):
        path = _sqlite_path(url)
        if not path.exists():
            return True
        db = sqlite3.connect(path)
        try:
            return not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            db.close()
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))
            return int(tables.scalar_one()) == 0
    finally:
        await engine.dispose()


def _sqlite_restore(dump: Path, url: str) -> None:
    path = _sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(dump)
    target = sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _copy_blobs(root: Path, manifest: Manifest, blob_root: Path) -> None:
    for item in manifest.blobs:
        target = blob_root / item.path.removeprefix("blobs/")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".restoring")
        shutil.copyfile(root / item.path, partial)
        partial.replace(target)


async def restore_backup(settings: Settings, archive: Path) -> RestoreReport:
    """Restore `archive` into the configured database (empty: a fresh SQLite file or a new PostgreSQL database)
    and data directory (no blobs yet); migrate it to this code's head; audit the restore in the restored chain.
    Everything is checked first (format, engine, every hash, the field key, an empty target): a refusal writes
    nothing."""
    url = settings.resolved_database_url
    blob_root = settings.data_dir / "blobs"
    with _unpacked(archive) as (root, manifest, members):
        problems = archive_problems(manifest, members, _engine_name(url))
        if manifest.field_key_check != key_check(settings):
            problems.append("HOSPITAL_FIELD_KEY is not the key of the backup: its sealed data would not open")
        if problems:
            raise BackupRefused("the archive cannot be restored: " + "; ".join(problems))
        if not await _target_is_empty(url):
            raise BackupRefused("the target database is not empty: restore into a fresh one")
        if blob_root.exists() and any(blob_root.iterdir()):
            raise BackupRefused(f"{blob_root} already holds blobs: restore into a fresh data directory")
        dump = root / manifest.database.path
        if manifest.engine == "sqlite":
            await asyncio.to_thread(_sqlite_restore, dump, url)
        else:
            await _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                        f"--dbname={_libpq_url(url)}", str(dump)])
        await asyncio.to_thread(_copy_blobs, root, manifest, blob_root)
    await asyncio.to_thread(migrate, url)  # an archive of an older release comes up to this code's schema
    await _record(settings, "backup.restored", {"backup_id": manifest.backup_id, "archive": archive.name,
                                                "taken_at": manifest.taken_at, "blobs": len(manifest.blobs),
                                                "missing_blobs": len(manifest.missing_blobs)})
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
    finally:
        await engine.dispose()
    return RestoreReport(manifest, revision)

