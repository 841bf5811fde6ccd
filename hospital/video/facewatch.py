"""Live face watch over the doctor's video during the whole visit (FACE-02).

`DoctorFrameSampler` decodes only the doctor's stream, in a thread of its own, and keeps the latest
picture; everything else in the hub stays encoded. `FaceWatch` takes one picture every
`sample_interval_s`, has it checked by the injected `check_face`, keeps the result series, and reports a
breach when no matching face has been seen for longer than `grace_s`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

import av

from hospital.video.bitstream import vp8_is_keyframe
from hospital.video.contracts import CheckFace, FaceCheck, RGBArray
from hospital.video.handoff import BatchHandoff

__all__ = ["BreachReason", "DoctorFrameSampler", "FaceCheckRecord", "FaceWatch", "FrameSource"]

logger = logging.getLogger(__name__)

BreachReason = Literal["face_missing", "face_mismatch"]
CheckStatus = Literal["ok", "face_missing", "face_mismatch", "no_video", "check_failed"]


class FrameSource(Protocol):
    """What FaceWatch needs from a sampler: the latest picture as RGB, if it is fresh enough."""

    def latest_rgb(self, max_age_s: float) -> RGBArray | None: ...


class DoctorFrameSampler:
    """Decodes the doctor's VP8 in a worker thread; `add` is called on the loop for every received frame."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._source: object | None = None
        self._handoff: BatchHandoff[bytes | None] = BatchHandoff(max_batches=20)
        self._lock = threading.Lock()
        self._latest: tuple[av.VideoFrame, float] | None = None
        self.decoded = 0
        self._decoder: Any = None  # touched only by the worker thread
        self._thread = threading.Thread(target=self._run, name="face-watch-decoder", daemon=True)
        self._thread.start()

    def add(self, source: object, frame: bytes) -> None:
        """Queue one received frame; a new source (the doctor reconnected) restarts decoding."""
        if source is not self._source:
            self._source = source
            self._handoff.put(None)
        if not self._handoff.put(frame):  # decoder 5 s behind: restart from the next keyframe
            self._handoff.discard_backlog()
            self._handoff.put(None)

    def latest_rgb(self, max_age_s: float) -> RGBArray | None:
        with self._lock:
            latest = self._latest
        if latest is None or self._clock() - latest[1] > max_age_s:
            return None
        return cast(RGBArray, latest[0].to_ndarray(format="rgb24"))

    async def aclose(self) -> None:
        """Stop the decoder thread (called on the event loop, which owns the hand-off)."""
        self._handoff.close()
        await asyncio.to_thread(self._thread.join, 5)

    def _run(self) -> None:
        while (batch := self._handoff.get()) is not None:
            self._decode(batch)

    def _decode(self, batch: list[bytes | None]) -> None:
        decoder = self._decoder
        for item in batch:
            if item is None:  # reset marker
                decoder = None
                continue
            if decoder is None:
                if not vp8_is_keyframe(item):
                    continue
                decoder = av.CodecContext.create("vp8", "r")
            try:
                frames = decoder.decode(av.Packet(item))
            except av.FFmpegError:
                decoder = None  # wait for the next keyframe
                continue
            for frame in frames:
                self.decoded += 1
                with self._lock:
                    self._latest = (frame, self._clock())
        self._decoder = decoder


@dataclass(frozen=True, slots=True)
class FaceCheckRecord:
    """One entry of the result series; `at_s` counts from the start of the watch."""

    at_s: float
    status: CheckStatus
    present: bool
    match: bool
    distance: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "at_s": round(self.at_s, 3),
            "status": self.status,
            "present": self.present,
            "match": self.match,
            "distance": self.distance,
        }


class FaceWatch:
    """Samples, checks and decides; `on_breach` is awaited once per breach until `reset()`."""

    def __init__(
        self,
        frames: FrameSource,
        check_face: CheckFace,
        *,
        sample_interval_s: float,
        grace_s: float,
        max_frame_age_s: float,
        check_timeout_s: float,
        on_check: Callable[[FaceCheckRecord], None],
        on_breach: Callable[[BreachReason, float], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.frames = frames
        self.check_face = check_face
        self.sample_interval_s = sample_interval_s
        self.grace_s = grace_s
        self.max_frame_age_s = max_frame_age_s
        self.check_timeout_s = check_timeout_s
        self._on_check = on_check
        self._on_breach = on_breach
        self._clock = clock
        self._started_at = clock()
        self.results: list[FaceCheckRecord] = []
        self._bad_since: float | None = None
        self._breached = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._bad_since = None
            self._task = asyncio.create_task(self._run(), name="face-watch")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def restart_grace(self) -> None:
        """The doctor rejoined after a dropped network: the grace starts again (a pause already made stays)."""
        self._bad_since = None

    def reset(self) -> None:
        """The doctor re-verified: forget the breach and the bad streak."""
        self._bad_since = None
        self._breached = False

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.sample_interval_s)
            await self.sample_once()

    async def sample_once(self) -> FaceCheckRecord:
        """Take one picture, check it, record the result, and report a breach if the grace ran out."""
        rgb = await asyncio.to_thread(self.frames.latest_rgb, self.max_frame_age_s)
        at = self._clock()
        if rgb is None:
            record = self._record(at, "no_video", FaceCheck(present=False, match=False))
        else:
            try:
                check = await asyncio.wait_for(self.check_face(rgb), self.check_timeout_s)
            except Exception:  # the checker's failure is recorded, never taken as the doctor's
                logger.exception("face check failed")
                record = self._record(at, "check_failed", FaceCheck(present=False, match=False))
            else:
                status: CheckStatus = "ok" if check.ok else "face_mismatch" if check.present else "face_missing"
                record = self._record(at, status, check)
        await self._evaluate(record, at)
        return record

    def _record(self, at: float, status: CheckStatus, check: FaceCheck) -> FaceCheckRecord:
        record = FaceCheckRecord(at - self._started_at, status, check.present, check.match, check.distance)
        self.results.append(record)
        self._on_check(record)
        return record

    async def _evaluate(self, record: FaceCheckRecord, at: float) -> None:
        if record.status == "ok":
            self._bad_since = None
            return
        if record.status == "check_failed":
            return
        if self._bad_since is None:
            self._bad_since = at
        if not self._breached and at - self._bad_since >= self.grace_s:
            self._breached = True
            reason: BreachReason = "face_mismatch" if record.status == "face_mismatch" else "face_missing"
            await self._on_breach(reason, at - self._bad_since)
