"""Signed checkpoints of the audit chain, kept outside the database (AUD-01, SEC-02).

The hash chain finds an entry edited, inserted or deleted in the middle; it cannot find its own tail cut off (the
last entries deleted leave a shorter chain that still verifies). A checkpoint (the head's sequence number and hash,
the number of entries, the time) signed with the hospital's audit key and written as a file beside the blobs
(`<data_dir>/blobs/audit-checkpoints/`) anchors the chain: `hospital audit verify` checks the chain against the
latest checkpoint and names the entries missing from the tail, or the entry changed since.

Checkpoints are written by the periodic security scan (`HOSPITAL_SECURITY_SCAN_INTERVAL`), by `hospital security
scan` and by `hospital audit checkpoint`. What an attacker with the database and the key can still do is in
docs/security.md ("The audit trail").
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.core.audit import AuditEntry

__all__ = ["Checkpoint", "CheckpointStore", "TailFinding", "check_against", "checkpoint_store", "take_checkpoint"]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    head_seq: int  # the sequence number of the last entry the checkpoint saw
    head_hash: str  # its entry_hash
    entries: int  # how many entries the chain held
    at: str  # ISO 8601, UTC
    signature: str = ""  # ECDSA P-256 / SHA-256 over the other fields (canonical JSON), base64

    def signed_bytes(self) -> bytes:
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class TailFinding:
    """What the chain lacks against the checkpoint: `missing` entries of the tail, or the head entry `changed`."""

    kind: str  # "missing_tail" | "changed"
    detail: str
    first_seq: int
    last_seq: int


class CheckpointStore:
    """Checkpoint files in one directory, signed with the key at `key_path` (created on first use, mode 0600)."""

    def __init__(self, directory: Path, key_path: Path) -> None:
        self.directory = directory
        self.key_path = key_path

    def _key(self) -> ec.EllipticCurvePrivateKey:
        if self.key_path.exists():
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{self.key_path} is not an EC private key")
            return key
        self.key_path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        self.key_path.touch(mode=0o600)
        self.key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
        return key

    def write(self, checkpoint: Checkpoint) -> Path:
        signature = self._key().sign(checkpoint.signed_bytes(), ec.ECDSA(hashes.SHA256()))
        signed = Checkpoint(checkpoint.head_seq, checkpoint.head_hash, checkpoint.entries, checkpoint.at,
                            base64.b64encode(signature).decode())
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{signed.head_seq:012d}-{signed.at.replace(':', '')}.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(signed), sort_keys=True))
        temporary.replace(path)
        return path

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint whose signature verifies; a file that does not verify is an error, not skipped."""
        files = sorted(self.directory.glob("*.json")) if self.directory.exists() else []
        if not files:
            return None
        checkpoint = Checkpoint(**json.loads(files[-1].read_text()))
        try:
            self._key().public_key().verify(base64.b64decode(checkpoint.signature), checkpoint.signed_bytes(),
                                            ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError) as exc:
            raise ValueError(f"the checkpoint {files[-1].name} is not signed by the hospital's audit key") from exc
        return checkpoint


def checkpoint_store(data_dir: Path) -> CheckpointStore:
    """The hospital's checkpoints: files beside the blobs, signed with the key beside the token key."""
    return CheckpointStore(data_dir / "blobs" / "audit-checkpoints", data_dir / "keys" / "audit-checkpoint.pem")


async def take_checkpoint(session: AsyncSession, store: CheckpointStore, now: datetime) -> Checkpoint | None:
    """Sign and store where the chain's head is now (None when the chain is empty or has not moved)."""
    head = (await session.execute(sa.select(AuditEntry.seq, AuditEntry.entry_hash)  # type: ignore[call-overload]
                                  .order_by(AuditEntry.seq.desc()).limit(1))).first()  # type: ignore[union-attr]
    if head is None:
        return None
    latest = store.latest()
    if latest is not None and latest.head_seq == head.seq and latest.head_hash == head.entry_hash:
        return latest
    entries = (await session.execute(sa.select(sa.func.count()).select_from(AuditEntry))).scalar_one()
    checkpoint = Checkpoint(int(head.seq), str(head.entry_hash), int(entries), now.isoformat(timespec="seconds"))
    store.write(checkpoint)
    return checkpoint


async def check_against(session: AsyncSession, checkpoint: Checkpoint) -> TailFinding | None:
    """Compare the chain with a checkpoint: the entry it names must still be there with the same hash (the chain's
    own walk then vouches for every entry before it)."""
    query = sa.select(AuditEntry.entry_hash).where(AuditEntry.seq == checkpoint.head_seq)  # type: ignore[call-overload]
    stored = (await session.execute(query)).scalar_one_or_none()
    if stored == checkpoint.head_hash:
        return None
    last = (await session.execute(sa.select(sa.func.max(AuditEntry.seq)))).scalar_one_or_none() or 0
    if stored is None and last < checkpoint.head_seq:
        return TailFinding("missing_tail",
                           f"entries {last + 1} to {checkpoint.head_seq} are missing: the checkpoint of "
                           f"{checkpoint.at} saw the chain up to entry {checkpoint.head_seq}, the database ends at "
                           f"entry {last} (the tail was cut)", last + 1, checkpoint.head_seq)
    return TailFinding("changed",
                       f"entry {checkpoint.head_seq} is not the entry the checkpoint of {checkpoint.at} signed "
                       f"({'deleted' if stored is None else 'changed or replaced'})",
                       checkpoint.head_seq, checkpoint.head_seq)
