"""The blob store: uploaded documents, photos and recordings, addressed by the SHA-256 of their content,
sealed at rest (REC-03), with their retention date in the database (REC-02).

The bytes live under `<data_dir>/blobs/ab/cdef…` (a directory by default; the interface is the seam for an
object store in the country, INS-04). The database row holds the hash, size, type and retention date; when
two records share a blob the later purge date wins.

Format (the first byte says which):

- `0x02`, chunked (every blob written now): a header `02 | chunk size (4 bytes) | nonce prefix (8 random
  bytes)`, then the content in chunks of that size, each sealed with AES-256-GCM under a key derived for blobs,
  nonce = prefix | chunk index (4 bytes). The associated data of each chunk is the header, the chunk's index
  and whether it is the last one, so a chunk moved, dropped, repeated, cut short or added after the last fails
  to open, and so does a blob cut at a chunk boundary (its last chunk was not sealed as the last). The SHA-256
  of the content (the blob's name) is checked when the last chunk has been read. Writing and reading hold a
  chunk or two in memory whatever the blob's size (`put_file`, `put_stream`, `open_stream`).
- `0x01`, whole (blobs written before the chunked format): one AES-GCM seal of the whole content under the
  field key, with `blob:<sha256>` as associated data. Still read; never written.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import struct
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from hospital.core.crypto import FieldCipher, SealedValueError
from hospital.core.errors import NotFound
from hospital.core.retention import RetentionClass, purge_not_before
from hospital.core.types import UTCDateTime, utcnow

__all__ = ["CHUNK_SIZE", "Blob", "BlobStore", "record_blob", "store_blob", "store_blob_file"]

WHOLE = 0x01
CHUNKED = 0x02
CHUNK_SIZE = 256 * 1024
_HEADER = struct.Struct(">BI8s")  # format, chunk size, nonce prefix
_TAG = 16
_MAX_CHUNKS = 2**32  # the index is 4 bytes of the nonce


class Blob(SQLModel, table=True):
    sha256: str = Field(primary_key=True)
    size: int
    content_type: str
    retention_class: str
    purge_not_before: date
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _chunk_ad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">QB", index, 1 if last else 0)


class _ChunkSealer:
    """Writes the chunked format to an open file: `write` any amount, `finish` seals the last chunk."""

    def __init__(self, cipher: FieldCipher, out: BinaryIO, chunk_size: int = CHUNK_SIZE) -> None:
        self._aead = cipher.derived_aead("blob chunks v2")
        self._out = out
        self._chunk_size = chunk_size
        self._prefix = os.urandom(8)
        self.header = _HEADER.pack(CHUNKED, chunk_size, self._prefix)
        out.write(self.header)
        self._pending = bytearray()
        self._index = 0
        self.sha256 = hashlib.sha256()
        self.size = 0

    def _seal(self, plain: bytes, last: bool) -> None:
        if self._index >= _MAX_CHUNKS:
            raise ValueError("blob too large for the chunked format")
        nonce = self._prefix + struct.pack(">I", self._index)
        self._out.write(self._aead.encrypt(nonce, plain, _chunk_ad(self.header, self._index, last)))
        self._index += 1

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.size += len(data)
        self._pending += data
        # Keep at least one whole chunk back: only `finish` knows which chunk is the last.
        while len(self._pending) > self._chunk_size:
            self._seal(bytes(self._pending[:self._chunk_size]), last=False)
            del self._pending[:self._chunk_size]

    def finish(self) -> str:
        self._seal(bytes(self._pending), last=True)
        self._pending.clear()
        return self.sha256.hexdigest()


class BlobStore:
    def __init__(self, root: Path, cipher: FieldCipher, *, chunk_size: int = CHUNK_SIZE) -> None:
        self.root = root
        self.cipher = cipher
        self.chunk_size = chunk_size

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    # -- writing ---------------------------------------------------------------------------------------

    def _writer(self) -> tuple[Path, BinaryIO, _ChunkSealer]:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".incoming-{os.getpid()}-{os.urandom(6).hex()}"
        out = tmp.open("wb")
        return tmp, out, _ChunkSealer(self.cipher, out, self.chunk_size)

    def _commit(self, tmp: Path, out: BinaryIO, sealer: _ChunkSealer) -> tuple[str, int]:
        try:
            sha256 = sealer.finish()
            out.flush()
            os.fsync(out.fileno())
        finally:
            out.close()
        path = self._path(sha256)
        if path.exists():  # the same content is stored already
            tmp.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)  # atomic: a reader sees the whole blob or none
        return sha256, sealer.size

    def _abort(self, tmp: Path, out: BinaryIO) -> None:
        out.close()
        tmp.unlink(missing_ok=True)

    def _write_pieces(self, pieces: Iterable[bytes]) -> tuple[str, int]:
        tmp, out, sealer = self._writer()
        try:
            for piece in pieces:
                sealer.write(piece)
            return self._commit(tmp, out, sealer)
        except BaseException:
            self._abort(tmp, out)
            raise

    def _file_pieces(self, path: Path) -> Iterator[bytes]:
        with path.open("rb") as source:
            while piece := source.read(self.chunk_size):
                yield piece

    async def put(self, data: bytes) -> str:
        sha256, _ = await asyncio.to_thread(self._write_pieces, (data,))
        return sha256

    async def put_file(self, path: Path) -> tuple[str, int]:
        """Seal a file into the store a chunk at a time (a recording): its SHA-256 and size."""
        return await asyncio.to_thread(self._write_pieces, self._file_pieces(path))

    async def put_stream(self, pieces: AsyncIterable[bytes]) -> tuple[str, int]:
        """Seal what an async source yields, a piece at a time: its SHA-256 and size."""
        tmp, out, sealer = await asyncio.to_thread(self._writer)
        try:
            async for piece in pieces:
                await asyncio.to_thread(sealer.write, piece)
            return await asyncio.to_thread(self._commit, tmp, out, sealer)
        except BaseException:
            await asyncio.to_thread(self._abort, tmp, out)
            raise

    # -- reading ---------------------------------------------------------------------------------------

    def _read_chunks(self, sha256: str) -> Iterator[bytes]:
        path = self._path(sha256)
        try:
            source = path.open("rb")
        except FileNotFoundError:
            raise NotFound(f"blob {sha256[:12]}… is not in the store") from None
        with source:
            first = source.read(1)
            if first and first[0] == WHOLE:
                yield self.cipher.open(first + source.read(), context=f"blob:{sha256}")
                return
            if not first or first[0] != CHUNKED:
                raise SealedValueError(f"unknown blob format for {sha256[:12]}…")
            header = first + source.read(_HEADER.size - 1)
            if len(header) != _HEADER.size:
                raise SealedValueError(f"blob {sha256[:12]}… is cut short")
            _, chunk_size, prefix = _HEADER.unpack(header)
            aead = self.cipher.derived_aead("blob chunks v2")
            digest = hashlib.sha256()
            sealed_size = chunk_size + _TAG
            index = 0
            current = source.read(sealed_size)
            while True:
                following = source.read(sealed_size)
                last = not following
                nonce = prefix + struct.pack(">I", index)
                try:
                    plain = aead.decrypt(nonce, current, _chunk_ad(header, index, last))
                except InvalidTag as exc:
                    raise SealedValueError(f"blob {sha256[:12]}…: chunk {index} fails its integrity check "
                                           "(changed, moved, dropped or cut off)") from exc
                digest.update(plain)
                if last:
                    if digest.hexdigest() != sha256:
                        raise SealedValueError(f"blob {sha256[:12]}… does not hold the content of its name")
                    yield plain
                    return
                yield plain
                current = following
                index += 1

    async def open_stream(self, sha256: str) -> AsyncIterator[bytes]:
        """The content a chunk at a time. An integrity failure raises `SealedValueError` at the chunk where it is
        found; the content's hash is checked before the last chunk is given out."""
        chunks = self._read_chunks(sha256)
        done = object()
        while (chunk := await asyncio.to_thread(next, chunks, done)) is not done:
            assert isinstance(chunk, bytes)
            yield chunk

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(lambda: b"".join(self._read_chunks(sha256)))

    async def delete(self, sha256: str) -> None:
        await asyncio.to_thread(self._path(sha256).unlink, True)


async def record_blob(session: AsyncSession, sha256: str, size: int, *, content_type: str,
                      retention: RetentionClass, closed_on: date) -> Blob:
    """Record stored bytes, or extend their row, in the caller's transaction (the later purge date wins)."""
    keep_until = purge_not_before(retention, closed_on)
    blob = await session.get(Blob, sha256)
    if blob is None:
        blob = Blob(sha256=sha256, size=size, content_type=content_type, retention_class=retention,
                    purge_not_before=keep_until)
        session.add(blob)
    elif keep_until > blob.purge_not_before:
        blob.purge_not_before, blob.retention_class = keep_until, retention
    await session.flush()
    return blob


async def store_blob(session: AsyncSession, store: BlobStore, data: bytes, *, content_type: str,
                     retention: RetentionClass, closed_on: date) -> Blob:
    """Write the bytes (idempotent by hash) and record or extend their row in the caller's transaction."""
    sha256 = await store.put(data)
    return await record_blob(session, sha256, len(data), content_type=content_type, retention=retention,
                             closed_on=closed_on)


async def store_blob_file(session: AsyncSession, store: BlobStore, path: Path, *, content_type: str,
                          retention: RetentionClass, closed_on: date) -> Blob:
    """`store_blob` for a file, streamed a chunk at a time (a recording: memory does not grow with its length)."""
    sha256, size = await store.put_file(path)
    return await record_blob(session, sha256, size, content_type=content_type, retention=retention,
                             closed_on=closed_on)
