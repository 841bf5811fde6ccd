"""One participant's recording: the received VP8 and Opus frames muxed into Matroska without re-encoding.

Muxing costs about 0.0002 core per stream where an x264 re-encode costs 0.03–0.19 (docs/video.md). The
file is written by a thread of its own, so a slow disk never stalls the event loop that carries the call.
Audio and video are placed on one timeline by the arrival time of each stream's first frame; a stream
that restarts (the participant reconnected) is re-anchored the same way and continues in the same file.
A stretch of more than `GAP_S` with nothing from the participant (a dropped network, a rejoin) is a gap: kept
in `RecordingResult.gaps` and written into the file as a Matroska chapter titled `gap`.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from hospital.video.bitstream import MEDIA_CLOCK_RATE, vp8_dimensions
from hospital.video.handoff import BatchHandoff

__all__ = ["GAP_S", "GAP_TITLE", "ParticipantRecording", "RecordingResult"]

logger = logging.getLogger(__name__)

_MS = fractions.Fraction(1, 1000)
# Audio held back while waiting for the first video keyframe (which gives the picture size): 10 s of Opus.
_MAX_PENDING = 500
_DEFAULT_SIZE = (640, 480)
# Past this backlog (30 s) the disk cannot keep up; later frames are counted as lost, not held in memory.
_MAX_BACKLOG_BATCHES = 120
# Nothing received from the participant for longer than this (audio comes every 20 ms) is a gap in the recording.
GAP_S = 1.0
GAP_TITLE = "gap"


@dataclass(frozen=True, slots=True)
class RecordingResult:
    path: Path
    duration_s: float
    video_frames: int
    audio_frames: int
    lost_frames: int
    error: str | None
    gaps: tuple[tuple[float, float], ...] = ()  # (from_s, to_s) on the file's timeline: nothing was received


@dataclass(slots=True)
class _Anchor:
    source: object
    first_timestamp: int
    offset_ms: float


class ParticipantRecording:
    """Records one participant (video + audio) to `path`; `add` on the loop, `finish` once at the end."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.monotonic, audio_only: bool = False) -> None:
        self.path = path
        self._clock = clock
        self._t0: float | None = None
        self._anchors: dict[str, _Anchor] = {}
        self._handoff: BatchHandoff[tuple[str, bytes, int]] = BatchHandoff(max_batches=_MAX_BACKLOG_BATCHES)
        self._lost = 0
        self._result: RecordingResult | None = None
        self._writer = _MatroskaWriter(path, audio_only=audio_only)
        self._thread = threading.Thread(target=self._writer.run, args=(self._handoff,), name="recording-writer")
        self._thread.start()

    def add(self, kind: str, source: object, frame: bytes, timestamp: int) -> None:
        """Queue one received encoded frame (`timestamp` in the codec's RTP clock)."""
        if self._result is not None:
            return
        now = self._clock()
        if self._t0 is None:
            self._t0 = now
        anchor = self._anchors.get(kind)
        if anchor is None or anchor.source is not source:
            anchor = _Anchor(source, timestamp, (now - self._t0) * 1000.0)
            self._anchors[kind] = anchor
        pts_ms = round(anchor.offset_ms + (timestamp - anchor.first_timestamp) * 1000 / MEDIA_CLOCK_RATE[kind])
        if not self._handoff.put((kind, frame, pts_ms)):
            self._lost += 1

    async def finish(self) -> RecordingResult:
        """Close the file and tell how long it is; later calls return the same result."""
        if self._result is None:
            self._handoff.close()
            await asyncio.to_thread(self._thread.join)
            w = self._writer
            self._result = RecordingResult(
                path=self.path,
                duration_s=w.duration_s,
                video_frames=w.written["video"],
                audio_frames=w.written["audio"],
                lost_frames=self._lost + w.dropped,
                error=w.error,
                gaps=tuple(((a - (w.first_pts or 0)) / 1000.0, (b - (w.first_pts or 0)) / 1000.0) for a, b in w.gaps),
            )
        return self._result


class _MatroskaWriter:
    """Runs in the writer thread: opens the container at the first video keyframe, then muxes."""

    def __init__(self, path: Path, *, audio_only: bool = False) -> None:
        self.path = path
        self.audio_only = audio_only  # an audio visit: no video stream, the file opens at the first audio frame
        self.gaps: list[tuple[int, int]] = []  # (last pts before, first pts after), in ms
        self.written = {"video": 0, "audio": 0}
        self.dropped = 0
        self.error: str | None = None
        self._container: Any = None
        self._streams: dict[str, Any] = {}
        self._last_pts: dict[str, int] = {}
        self._first_pts: int | None = None
        self._end_pts = 0
        self._pending: list[tuple[str, bytes, int]] = []

    @property
    def first_pts(self) -> int | None:
        return self._first_pts

    @property
    def duration_s(self) -> float:
        if self._first_pts is None:
            return 0.0
        return (self._end_pts - self._first_pts) / 1000.0

    def run(self, handoff: BatchHandoff[tuple[str, bytes, int]]) -> None:
        while (batch := handoff.get()) is not None:
            for item in batch:
                if self.error is not None:
                    self.dropped += 1
                    continue
                try:
                    self._take(item)
                except (av.FFmpegError, OSError) as exc:
                    self.error = f"{type(exc).__name__}: {exc}"
                    logger.error("recording %s failed: %s", self.path, self.error)
        try:
            if self._container is None and self._pending and self.error is None:
                self._open(None)
            if self._container is not None:
                if self.gaps:
                    self._container.set_chapters([
                        {"id": n + 1, "start": start, "end": end, "time_base": _MS, "metadata": {"title": GAP_TITLE}}
                        for n, (start, end) in enumerate(self.gaps)])
                self._container.close()
        except (av.FFmpegError, OSError) as exc:
            self.error = self.error or f"{type(exc).__name__}: {exc}"

    def _take(self, item: tuple[str, bytes, int]) -> None:
        kind, frame, _ = item
        if self._container is None:
            size = vp8_dimensions(frame) if kind == "video" else None
            if self.audio_only:
                if kind != "audio":
                    self.dropped += 1
                    return
                self._open(None)
            elif size is not None:
                self._open(size)
            elif kind == "audio":
                self._pending.append(item)
                if len(self._pending) >= _MAX_PENDING:
                    self._open(_DEFAULT_SIZE)
                return
            else:
                self.dropped += 1  # an interframe before any keyframe cannot be decoded
                return
        self._mux(item)

    def _open(self, size: tuple[int, int] | None) -> None:
        self._container = av.open(str(self.path), mode="w", format="matroska")
        if size is not None:
            video = self._container.add_stream("vp8", rate=15)
            video.width, video.height = size
            video.pix_fmt = "yuv420p"
            video.time_base = _MS
            self._streams["video"] = video
        audio = self._container.add_stream("opus", rate=48_000)
        audio.time_base = _MS
        self._streams["audio"] = audio
        pending, self._pending = self._pending, []
        for item in pending:
            self._mux(item)

    def _mux(self, item: tuple[str, bytes, int]) -> None:
        kind, frame, pts = item
        stream = self._streams.get(kind)
        if stream is None:
            self.dropped += 1
            return
        last = self._last_pts.get(kind)
        if last is not None and pts <= last:
            pts = last + 1  # Matroska needs rising timestamps per stream; jitter can reorder the anchors
        if self._first_pts is not None and pts - self._end_pts > GAP_S * 1000:
            self.gaps.append((self._end_pts, pts))  # nothing from the participant in between
        self._last_pts[kind] = pts
        packet = av.Packet(frame)
        packet.pts = packet.dts = pts
        packet.time_base = _MS
        packet.stream = stream
        if kind == "video" and vp8_dimensions(frame) is not None:
            packet.is_keyframe = True
        self._container.mux(packet)
        self.written[kind] += 1
        if self._first_pts is None or pts < self._first_pts:
            self._first_pts = pts
        self._end_pts = max(self._end_pts, pts + (20 if kind == "audio" else 0))
