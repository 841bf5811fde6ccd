"""The archive checks a restore makes before writing anything (hospital/backup/rules.py)."""

from __future__ import annotations

from hospital.backup.rules import archive_problems, blob_member
from hospital.backup.service import _libpq_url
from hospital.backup.values import FORMAT, ArchivedFile, Manifest

BLOB = "ab" + "c" * 62


def manifest(**changes: object) -> Manifest:
    fields: dict[str, object] = {
        "format": FORMAT, "backup_id": "b1", "taken_at": "2026-12-03T00:00:00+00:00", "engine": "sqlite",
        "revision": "0009_security", "field_key_check": "k", "database": ArchivedFile("database.sqlite", "d" * 64, 10),
        "blobs": [ArchivedFile(blob_member(BLOB), "e" * 64, 5)], "missing_blobs": [], "audit_entries": 1,
        "audit_last_hash": "h", "outbox_events": 0, "outbox_undelivered": 0}
    return Manifest(**{**fields, **changes})  # type: ignore[arg-type]


SOUND = {"database.sqlite": ("d" * 64, 10), f"blobs/ab/{'c' * 62}": ("e" * 64, 5)}


def test_a_sound_archive_has_no_problems() -> None:
    assert archive_problems(manifest(), SOUND, "sqlite") == []


def test_a_changed_missing_or_extra_member_and_another_engine_are_named() -> None:
    assert archive_problems(manifest(format="other/1"), SOUND, "sqlite") == ["not a hospital-backup/1 archive: 'other/1'"]
    assert archive_problems(manifest(), SOUND, "postgresql") == [
        "the archive holds a sqlite database; the target is postgresql"]
    changed = {**SOUND, "database.sqlite": ("f" * 64, 10)}
    assert archive_problems(manifest(), changed, "sqlite") == [
        "database.sqlite: its bytes are not those of the backup (sha256 or size differ)"]
    missing = {"database.sqlite": SOUND["database.sqlite"]}
    assert archive_problems(manifest(), missing, "sqlite") == [
        f"blobs/ab/{'c' * 62}: listed in the manifest, missing from the archive"]
    extra = {**SOUND, "keys/token-signing.pem": ("0" * 64, 1)}
    assert archive_problems(manifest(), extra, "sqlite") == [
        "keys/token-signing.pem: in the archive but not in the manifest"]


def test_a_blob_member_must_be_named_as_in_the_store() -> None:
    odd = manifest(blobs=[ArchivedFile("blobs/../../etc/passwd", "e" * 64, 5)])
    problems = archive_problems(odd, {"database.sqlite": ("d" * 64, 10), "blobs/../../etc/passwd": ("e" * 64, 5)},
                                "sqlite")
    assert problems == ["blobs/../../etc/passwd: not a blob's name"]


def test_pg_dump_gets_the_tls_mode_as_libpq_spells_it() -> None:
    """Production's `?ssl=require` (REC-03, asyncpg's name) reaches pg_dump/pg_restore as `sslmode=require`: libpq
    refuses `ssl` ("invalid URI query parameter"), so every production backup failed."""
    assert _libpq_url("postgresql+asyncpg://h:secret@db:5432/hospital?ssl=require") == (
        "postgresql://h:secret@db:5432/hospital?sslmode=require")
    assert _libpq_url("postgresql+asyncpg://h@db/hospital") == "postgresql://h@db/hospital"
