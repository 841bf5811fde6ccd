"""The chunked blob format (REC-03): content streams in and out a chunk at a time, and a blob whose chunks were
reordered, dropped, cut off or extended is refused on read; blobs of the whole-seal format still read."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hospital.core.blobs import _HEADER, CHUNKED, BlobStore
from hospital.core.crypto import FieldCipher, SealedValueError

CHUNK = 1024
SEALED = CHUNK + 16


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs", FieldCipher(os.urandom(32)), chunk_size=CHUNK)


async def _stored(store: BlobStore, data: bytes) -> tuple[str, bytearray]:
    sha = await store.put(data)
    return sha, bytearray(store._path(sha).read_bytes())


async def test_content_round_trips_through_chunks_and_streams(store: BlobStore, tmp_path: Path) -> None:
    for size in (0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK, 5 * CHUNK + 7):
        data = os.urandom(size)
        sha, raw = await _stored(store, data)
        assert sha == hashlib.sha256(data).hexdigest()
        # sealed, not in the clear (a content under 16 bytes may match some ciphertext bytes by chance: 1 byte in
        # a 30-byte file did, one run in ten)
        assert raw[0] == CHUNKED and (size < 16 or data[:64] not in raw)
        chunks = max(1, -(-size // CHUNK))
        assert len(raw) == _HEADER.size + size + 16 * chunks
        assert await store.get(sha) == data
        assert b"".join([c async for c in store.open_stream(sha)]) == data
    source = tmp_path / "recording.mkv"
    source.write_bytes(os.urandom(7 * CHUNK + 3))
    sha, size = await store.put_file(source)
    assert (sha, size) == (hashlib.sha256(source.read_bytes()).hexdigest(), source.stat().st_size)

    async def pieces():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"x" * 333
    sha, size = await store.put_stream(pieces())
    assert size == 3330 and await store.get(sha) == b"x" * 3330
    assert not list(store.root.glob(".incoming-*"))  # no temp file left behind


async def _refused(store: BlobStore, sha: str, raw: bytes, match: str = "chunk") -> None:
    """Refused at the chunk itself (not only by the content's hash at the end, which a stream reader sees last)."""
    store._path(sha).write_bytes(bytes(raw))
    with pytest.raises(SealedValueError, match=match):
        await store.get(sha)
    with pytest.raises(SealedValueError, match=match):
        async for _ in store.open_stream(sha):
            pass


async def test_reordered_chunks_are_refused(store: BlobStore) -> None:
    sha, raw = await _stored(store, os.urandom(4 * CHUNK + 10))
    h = _HEADER.size
    first, second = raw[h:h + SEALED], raw[h + SEALED:h + 2 * SEALED]
    await _refused(store, sha, raw[:h] + second + first + raw[h + 2 * SEALED:])


async def test_a_dropped_chunk_is_refused(store: BlobStore) -> None:
    sha, raw = await _stored(store, os.urandom(4 * CHUNK + 10))
    h = _HEADER.size
    await _refused(store, sha, raw[:h + SEALED] + raw[h + 2 * SEALED:])


async def test_a_blob_cut_at_a_chunk_boundary_is_refused(store: BlobStore) -> None:
    """Every remaining chunk is intact: the last-chunk flag in its associated data tells, at that chunk."""
    sha, raw = await _stored(store, os.urandom(4 * CHUNK + 10))
    await _refused(store, sha, raw[:_HEADER.size + 2 * SEALED])


async def test_a_blob_cut_inside_a_chunk_is_refused(store: BlobStore) -> None:
    sha, raw = await _stored(store, os.urandom(4 * CHUNK + 10))
    await _refused(store, sha, raw[:-5])


async def test_a_chunk_added_after_the_last_is_refused(store: BlobStore) -> None:
    sha, raw = await _stored(store, os.urandom(2 * CHUNK))
    await _refused(store, sha, raw + raw[_HEADER.size:_HEADER.size + SEALED])


async def test_a_changed_header_or_byte_is_refused(store: BlobStore) -> None:
    sha, raw = await _stored(store, os.urandom(3 * CHUNK))
    changed = bytearray(raw)
    changed[_HEADER.size + SEALED + 3] ^= 1
    await _refused(store, sha, changed)
    other = bytearray(raw)
    other[6] ^= 1  # the nonce prefix in the header
    await _refused(store, sha, other)


async def test_another_blobs_file_under_this_name_is_refused(store: BlobStore) -> None:
    sha, _ = await _stored(store, os.urandom(2 * CHUNK))
    _, other = await _stored(store, os.urandom(2 * CHUNK))
    await _refused(store, sha, other, match="content of its name")


async def test_a_blob_of_the_whole_seal_format_still_reads(store: BlobStore) -> None:
    data = os.urandom(3 * CHUNK)
    sha = hashlib.sha256(data).hexdigest()
    path = store._path(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(store.cipher.seal(data, context=f"blob:{sha}"))  # how blobs were written before
    assert await store.get(sha) == data
    assert b"".join([c async for c in store.open_stream(sha)]) == data
    await store.put(data)  # the same content again: the stored file is kept as it is
    assert path.read_bytes()[0] == 0x01
    moved = store.cipher.seal(data, context="blob:" + "0" * 64)
    await _refused(store, sha, moved, match="integrity")
