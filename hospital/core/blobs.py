"""The blob store: uploaded documents, photos and recordings, addressed by the SHA-256 of their content,
sealed at rest (REC-03), with their retention date in the database (REC-02).

The bytes live under `<data_dir>/blobs/ab/cdef…` (a directory by default; the interface is the seam for an
object store in the country, INS-04). The database row holds the hash, size, type and retention date; when
two records share a blob the later purge date wins.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from hospital.core.crypto import FieldCipher
from hospital.core.errors import NotFound
from hospital.core.retention import RetentionClass, purge_not_before
from hospital.core.types import UTCDateTime, utcnow

__all__ = ["Blob", "BlobStore", "store_blob"]


class Blob(SQLModel, table=True):
    sha256: str = Field(primary_key=True)
    size: int
    content_type: str
    retention_class: str
    purge_not_before: date
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BlobStore:
    def __init__(self, root: Path, cipher: FieldCipher) -> None:
        self.root = root
        self.cipher = cipher

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def _write(self, sha256: str, data: bytes) -> None:
        path = self._path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(self.cipher.seal(data, context=f"blob:{sha256}"))
        os.replace(tmp, path)  # atomic: a reader sees the whole blob or none

    async def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        await asyncio.to_thread(self._write, sha256, data)
        return sha256

    async def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        if not path.exists():
            raise NotFound(f"blob {sha256[:12]}… is not in the store")
        sealed = await asyncio.to_thread(path.read_bytes)
        data = self.cipher.open(sealed, context=f"blob:{sha256}")
        return data

    async def delete(self, sha256: str) -> None:
        await asyncio.to_thread(self._path(sha256).unlink, True)


async def store_blob(session: AsyncSession, store: BlobStore, data: bytes, *, content_type: str,
                     retention: RetentionClass, closed_on: date) -> Blob:
    """Write the bytes (idempotent by hash) and record or extend their row in the caller's transaction."""
    sha256 = await store.put(data)
    keep_until = purge_not_before(retention, closed_on)
    blob = await session.get(Blob, sha256)
    if blob is None:
        blob = Blob(sha256=sha256, size=len(data), content_type=content_type, retention_class=retention,
                    purge_not_before=keep_until)
        session.add(blob)
    elif keep_until > blob.purge_not_before:
        blob.purge_not_before, blob.retention_class = keep_until, retention
    await session.flush()
    return blob
