"""Peak memory while a long recording is stored in the blob store, and read back (goal: < 64 MB above baseline).

Run: python bench/recording_memory.py [--minutes 30] [--kbit 750] [--whole]

The synthetic recording is a file of the size one participant's 30-minute recording has at the bitrates aiortc
negotiates (≈700 kbit/s VP8 + Opus: 750 kbit/s, ≈169 MB), filled with random bytes (the blob store neither
reads nor cares about Matroska; random bytes are what compressed media looks like to it). The file is stored as
the media peer stores one (`BlobStore.put_file`: chunked sealing, a chunk at a time) and then read back as a
stream and hashed (`open_stream`). Each phase runs in a fresh child process, whose peak resident memory (Linux
VmHWM) is compared with the same process's resident memory just before the phase. `--whole` adds the format
this replaced, for comparison: the file read whole and sealed in one AES-GCM piece (≈2x the file).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_MB = 64.0
MB = 1024 * 1024


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB → MB
    raise RuntimeError(f"no {field} in /proc/self/status")


def _phase(phase: str, folder: Path, source: Path) -> dict[str, float]:
    """In a child process: the phase's peak resident memory above its baseline, and its wall time."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from hospital.core.blobs import BlobStore
    from hospital.core.crypto import FieldCipher

    store = BlobStore(folder / "blobs", FieldCipher(b"k" * 32))
    sha_file = folder / "sha"
    baseline = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident size
    started = time.perf_counter()
    if phase == "store":
        sha, _ = asyncio.run(store.put_file(source))
        sha_file.write_text(sha)
    elif phase == "read":
        async def read() -> str:
            digest = hashlib.sha256()
            async for chunk in store.open_stream(sha_file.read_text()):
                digest.update(chunk)
            return digest.hexdigest()
        assert asyncio.run(read()) == sha_file.read_text()
    elif phase == "whole":  # what storing a recording did before the chunked format
        data = source.read_bytes()
        store.cipher.seal(data, context="blob:x")
    elapsed = time.perf_counter() - started
    return {"peak_above_baseline_mb": round(_status("VmHWM") - baseline, 1), "seconds": round(elapsed, 2)}


def _synthetic_recording(path: Path, size: int) -> None:
    with path.open("wb") as out:
        left = size
        while left:
            piece = os.urandom(min(4 * MB, left))
            out.write(piece)
            left -= len(piece)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--kbit", type=float, default=750.0, help="video + audio bitrate of the recording")
    parser.add_argument("--whole", action="store_true", help="also measure the whole-seal format it replaced")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        folder = Path(args.folder)
        print(json.dumps(_phase(args.phase, folder, folder / "recording.mkv")))
        return
    size = int(args.minutes * 60 * args.kbit * 1000 / 8)
    results: dict[str, object] = {"minutes": args.minutes, "file_mb": round(size / MB, 1),
                                  "goal_mb": GOAL_MB}
    with tempfile.TemporaryDirectory(prefix="recording-memory-") as tmp:
        folder = Path(tmp)
        _synthetic_recording(folder / "recording.mkv", size)
        phases = ["store", "read"] + (["whole"] if args.whole else [])
        for phase in phases:
            out = subprocess.run([sys.executable, __file__, "--phase", phase, "--folder", tmp], check=True,
                                 capture_output=True, text=True).stdout
            results[phase] = json.loads(out.strip().splitlines()[-1])
            print(f"{phase:5}: peak {results[phase]['peak_above_baseline_mb']:7.1f} MB above baseline, "  # type: ignore[index]
                  f"{results[phase]['seconds']:.1f} s for {size / MB:.0f} MB")  # type: ignore[index]
    store, read = results["store"], results["read"]
    results["within_goal"] = max(store["peak_above_baseline_mb"], read["peak_above_baseline_mb"]) < GOAL_MB  # type: ignore[index]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
