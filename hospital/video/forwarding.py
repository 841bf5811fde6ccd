"""A track that carries one participant's encoded media, unchanged, to the other participant's browser."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hospital.video.bitstream import MEDIA_CLOCK_RATE

__all__ = ["ForwardTrack"]


class ForwardTrack(MediaStreamTrack):
    """Outgoing track fed with encoded frames; aiortc's sender packetises them without encoding.

    The frames can come from successive sources (the other participant reconnects); timestamps are
    rebased so the browser sees one continuous stream. Video waits for a keyframe after a source change,
    a resume or an overflow, and asks for one through `request_keyframe`.
    """

    def __init__(
        self,
        kind: str,
        *,
        request_keyframe: Callable[[], None],
        max_queued: int = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.kind = kind
        self._clock_rate = MEDIA_CLOCK_RATE[kind]
        self._time_base = fractions.Fraction(1, self._clock_rate)
        self._request_keyframe = request_keyframe
        self._max_queued = max_queued
        self._clock = clock
        self._queue: asyncio.Queue[av.Packet | None] = asyncio.Queue()
        self._source: object | None = None
        self._source_first_ts = 0
        self._out_base = 0
        self._last_out: int | None = None
        self._last_wall = 0.0
        self._needs_keyframe = kind == "video"
        self.forwarded = 0
        self.dropped = 0

    def wait_for_keyframe(self) -> None:
        """Drop video until the next keyframe (after a pause, so the browser never decodes a broken picture)."""
        if self.kind == "video":
            self._needs_keyframe = True

    def push(self, source: object, frame: bytes, timestamp: int, keyframe: bool) -> None:
        """Queue one encoded frame from `source` (a token that changes when the sender reconnects)."""
        if self.readyState != "live":
            return
        now = self._clock()
        if source is not self._source:
            self._rebase(source, timestamp, now)
        if self._needs_keyframe:
            if not keyframe:
                self.dropped += 1
                self._request_keyframe()
                return
            self._needs_keyframe = False
        if self._queue.qsize() >= self._max_queued:
            # The browser's leg is slower than the sender: start afresh from a keyframe instead of lagging.
            self._drain()
            self.dropped += 1
            if self.kind == "video":
                self._needs_keyframe = True
                self._request_keyframe()
            return
        pts = self._out_base + (timestamp - self._source_first_ts)
        packet = av.Packet(frame)
        packet.pts = pts
        packet.time_base = self._time_base
        self._last_out = pts
        self._last_wall = now
        self.forwarded += 1
        self._queue.put_nowait(packet)

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        packet = await self._queue.get()
        if packet is None:
            raise MediaStreamError
        return packet

    def stop(self) -> None:
        if self.readyState == "live":
            super().stop()
            self._drain()
            self._queue.put_nowait(None)

    def _rebase(self, source: object, timestamp: int, now: float) -> None:
        self._source = source
        self._source_first_ts = timestamp
        if self._last_out is None:
            self._out_base = 0
        else:
            elapsed = max(1, round((now - self._last_wall) * self._clock_rate))
            self._out_base = self._last_out + elapsed
        self.wait_for_keyframe()

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
