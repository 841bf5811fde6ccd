"""Pure checks of a backup archive before anything is restored (互联网医疗服务管理制度 art. 13: patient information is
backed up regularly against loss or damage; a backup that restores wrongly is no backup)."""

from __future__ import annotations

from collections.abc import Mapping

from hospital.backup.values import FORMAT, Manifest

__all__ = ["archive_problems", "blob_member"]


def blob_member(sha256: str) -> str:
    """A blob's name in the archive, as in the store: blobs/ab/cdef…"""
    return f"blobs/{sha256[:2]}/{sha256[2:]}"


def archive_problems(manifest: Manifest, members: Mapping[str, tuple[str, int]], target_engine: str) -> list[str]:
    """Everything wrong with an archive whose members hash as `members` (name → (sha256, size)); empty if sound.

    The manifest must be of this format and for the target's engine; every file it lists must be there with its
    hash and size, nothing else may be, and each blob file must be named for a blob of the manifest."""
    problems: list[str] = []
    if manifest.format != FORMAT:
        return [f"not a {FORMAT} archive: {manifest.format!r}"]
    if manifest.engine != target_engine:
        problems.append(f"the archive holds a {manifest.engine} database; the target is {target_engine}")
    listed = [manifest.database, *manifest.blobs]
    for item in listed:
        found = members.get(item.path)
        if found is None:
            problems.append(f"{item.path}: listed in the manifest, missing from the archive")
        elif found != (item.sha256, item.size):
            problems.append(f"{item.path}: its bytes are not those of the backup (sha256 or size differ)")
    extra = sorted(set(members) - {item.path for item in listed})
    problems.extend(f"{name}: in the archive but not in the manifest" for name in extra)
    for item in manifest.blobs:
        name = item.path.removeprefix("blobs/").replace("/", "")
        if blob_member(name) != item.path or len(name) != 64:
            problems.append(f"{item.path}: not a blob's name")
    return problems
