"""What a backup archive says about itself: `manifest.json`, the archive's last member."""

from __future__ import annotations

import msgspec

__all__ = ["FORMAT", "ArchivedFile", "Manifest"]

FORMAT = "hospital-backup/1"


class ArchivedFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    path: str  # the member's name in the archive: database.sqlite | database.pgdump | blobs/ab/cdef…
    sha256: str  # of the member's bytes (a blob's sealed bytes, as stored)
    size: int


class Manifest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    format: str
    backup_id: str
    taken_at: str  # ISO 8601, UTC
    engine: str  # sqlite | postgresql
    revision: str | None  # the Alembic revision of the dumped schema
    field_key_check: str  # HMAC of a constant under HOSPITAL_FIELD_KEY: a restore under another key is refused
    database: ArchivedFile
    blobs: list[ArchivedFile]
    missing_blobs: list[str]  # rows of the blob table whose file was already gone when the backup was taken
    audit_entries: int
    audit_last_hash: str | None
    outbox_events: int
    outbox_undelivered: int  # pending or retrying when the snapshot was taken: the dispatcher sends them after a restore
