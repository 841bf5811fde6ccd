"""In-process browsers for the video tests: aiortc peers sending colour-coded, numbered frames."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError

from hospital.video import FaceCheck, MediaHub

WIDTH, HEIGHT, FPS = 320, 240, 15
_BITS = 12
_BLOCK = 16
# Luma levels the two browsers paint their pictures with, far enough apart to survive VP8.
PATIENT_LUMA, DOCTOR_LUMA = 60, 200


class NumberedFrames(MediaStreamTrack):
    """A 15 fps camera: flat picture of one luma level, the frame number painted as black/white blocks."""

    kind = "video"

    def __init__(self, luma: int) -> None:
        super().__init__()
        self.luma = luma
        self.sent = 0
        self._start: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self.sent / FPS - time.monotonic()))
        picture = np.full((HEIGHT * 3 // 2, WIDTH), 128, np.uint8)
        picture[:HEIGHT] = self.luma
        for bit in range(_BITS):
            picture[:_BLOCK, bit * _BLOCK : (bit + 1) * _BLOCK] = 255 if self.sent >> bit & 1 else 0
        frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        frame.pts = self.sent * (90_000 // FPS)
        frame.time_base = fractions.Fraction(1, 90_000)
        self.sent += 1
        return frame


def read_frame(frame: av.VideoFrame) -> tuple[int, int]:
    """The frame number and the picture's luma level, read back from a decoded frame."""
    luma = frame.to_ndarray(format="yuv420p")
    number = sum(1 << bit for bit in range(_BITS) if luma[_BLOCK // 2, bit * _BLOCK + _BLOCK // 2] > 128)
    return number, int(luma[HEIGHT // 2, WIDTH // 2])


@dataclass
class Browser:
    """One participant's browser: sends its camera and a silent microphone, keeps what it receives."""

    luma: int
    pc: RTCPeerConnection = field(default_factory=lambda: RTCPeerConnection(RTCConfiguration(iceServers=[])))
    received: list[tuple[int, int, float]] = field(default_factory=list)
    audio_frames: int = 0
    camera: NumberedFrames | None = None
    with_camera: bool = True  # False: an audio visit's browser, the microphone only
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.with_camera:
            self.camera = NumberedFrames(self.luma)
            self.pc.addTrack(self.camera)
        self.pc.addTrack(AudioStreamTrack())
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.ensure_future(self._consume(track)))

    async def _consume(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(frame, av.VideoFrame):
                number, luma = read_frame(frame)
                self.received.append((number, luma, time.monotonic()))
            else:
                self.audio_frames += 1

    async def join(self, hub: MediaHub, visit_id: str, role: str, **kwargs: Any) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await hub.join(visit_id, role, self.pc.localDescription.sdp, **kwargs)  # type: ignore[arg-type]
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    def frames_since(self, moment: float) -> list[tuple[int, int, float]]:
        return [r for r in self.received if r[2] >= moment]

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass
class Recorded:
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    recordings: dict[str, tuple[Path, float]] = field(default_factory=dict)

    def kinds(self) -> list[str]:
        return [kind for _, kind, _ in self.events]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for _, k, data in self.events if k == kind]


async def always_the_doctor(rgb: np.ndarray) -> FaceCheck:
    return FaceCheck(present=True, match=True, distance=0.35)


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
