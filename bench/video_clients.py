"""Simulated browsers for bench/video_consults.py: paced 640×480@15 VP8 + Opus with numbered frames.

The video is encoded once (a smooth background, a moving textured "head", a keyframe every 5 s) and
replayed by every browser through aiortc's pre-encoded path, so the benchmark's own process spends its
CPU on RTP, not on encoding. Each frame carries its number (mod 150) as black/white 32-px blocks; the
receiving browser decodes, reads the number back and computes loss and latency against the send times
(one monotonic clock, since all browsers run in this process).
"""

from __future__ import annotations

import asyncio
import fractions
import time
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError
from PIL import Image

from hospital.video import aiortc_adapter

WIDTH, HEIGHT, FPS = 640, 480, 15
CYCLE = 150  # frames before the pre-encoded clip repeats (10 s)
KEYFRAME_EVERY = 75  # a keyframe every 5 s, and one on each keyframe request (PLI) as browsers do
_BITS = 8
_BLOCK = 32
_VIDEO_TB = fractions.Fraction(1, 90_000)
_AUDIO_TB = fractions.Fraction(1, 48_000)


def _paint_number(luma: np.ndarray, number: int) -> None:
    parity = bin(number).count("1") & 1
    for bit, value in enumerate([(number >> b) & 1 for b in range(_BITS)] + [parity]):
        luma[:_BLOCK, bit * _BLOCK : (bit + 1) * _BLOCK] = 235 if value else 16


def read_number(frame: av.VideoFrame) -> int | None:
    """The frame number painted by `_paint_number`, or None when the blocks do not read back cleanly."""
    plane = frame.planes[0]
    luma = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
    bits = [int(luma[_BLOCK // 2, b * _BLOCK + _BLOCK // 2] > 128) for b in range(_BITS + 1)]
    number = sum(bit << b for b, bit in enumerate(bits[:_BITS]))
    return number if bits[_BITS] == bin(number).count("1") & 1 and number < CYCLE else None


def encode_clip(bitrate: int = 700_000) -> list[bytes]:
    """The CYCLE-frame VP8 clip every simulated camera sends, encoded with aiortc's own VP8 settings."""
    rng = np.random.default_rng(7)
    # A webcam picture is smooth with a little sensor noise; pure noise would make 200 KB keyframes.
    coarse = Image.fromarray(rng.integers(40, 200, (68, 88), dtype=np.uint8))
    background = np.asarray(coarse.resize((WIDTH + 64, HEIGHT + 64), Image.Resampling.BICUBIC), np.int16)
    background = np.clip(background + rng.integers(-6, 7, background.shape), 0, 255).astype(np.uint8)
    head = Image.fromarray(rng.integers(90, 230, (25, 20), dtype=np.uint8))
    head_texture = np.asarray(head.resize((160, 200), Image.Resampling.BICUBIC))
    yy, xx = np.mgrid[:200, :160]
    head_mask = ((yy - 100) / 100) ** 2 + ((xx - 80) / 80) ** 2 <= 1
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    encoder.time_base, encoder.bit_rate = _VIDEO_TB, bitrate
    encoder.gop_size, encoder.qmin, encoder.qmax = 3000, 2, 56
    encoder.options = {  # as aiortc.codecs.vpx.Vp8Encoder: realtime CBR
        "bufsize": str(bitrate),
        "cpu-used": "-6",
        "deadline": "realtime",
        "lag-in-frames": "0",
        "minrate": str(bitrate),
        "maxrate": str(bitrate),
        "noise-sensitivity": "4",
        "overshoot-pct": "15",
        "partitions": "0",
        "static-thresh": "1",
        "undershoot-pct": "100",
    }
    clip: list[bytes] = []
    for n in range(CYCLE):
        shift = int(8 * np.sin(n / 12))
        picture = np.empty((HEIGHT * 3 // 2, WIDTH), np.uint8)
        luma = picture[:HEIGHT]
        luma[:] = background[32 + shift : 32 + shift + HEIGHT, 32 : 32 + WIDTH]
        top, left = 160 + int(20 * np.sin(n / 9)), 240 + int(40 * np.cos(n / 15))
        region = luma[top : top + 200, left : left + 160]
        region[head_mask] = np.roll(head_texture, n, axis=1)[head_mask]
        picture[HEIGHT:] = 128
        _paint_number(luma, n)
        frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        frame.pts = n * 6000
        if n % KEYFRAME_EVERY == 0:
            frame.pict_type = av.video.frame.PictureType.I
        packets = encoder.encode(frame)
        assert len(packets) == 1, "the clip needs exactly one packet per frame"
        clip.append(bytes(packets[0]))
    return clip


def encode_tone(count: int = 50) -> list[bytes]:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48_000, "stereo", "s16"
    encoder.time_base, encoder.bit_rate = _AUDIO_TB, 48_000
    out: list[bytes] = []
    n = 0
    while len(out) < count:
        t = (np.arange(960) + 960 * n) / 48_000
        tone = (3000 * np.sin(2 * np.pi * 330 * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.repeat(tone, 2).reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 48_000, 960 * n
        out += [bytes(p) for p in encoder.encode(frame)]
        n += 1
    return out[:count]


class PacedEncodedTrack(MediaStreamTrack):
    """Replays pre-encoded frames in real time; aiortc's sender packetises them without encoding.

    Like a browser, it answers a keyframe request (PLI) by sending a keyframe next: the clip jumps to
    its next keyframe. `sent_as[i]` is the frame count at which clip frame i was last sent.
    """

    def __init__(
        self,
        kind: str,
        frames: list[bytes],
        interval_s: float,
        step: int,
        time_base: fractions.Fraction,
        keyframe_every: int | None = None,
    ):
        super().__init__()
        self.kind = kind
        self._frames, self._interval_s, self._step, self._time_base = frames, interval_s, step, time_base
        self._keyframe_every = keyframe_every
        self._start: float | None = None
        self._position = 0
        self._keyframe_wanted = False
        self.sent = 0
        self.keyframes_on_request = 0
        self.send_times: list[float] = []
        self.sent_as: dict[int, int] = {}

    def request_keyframe(self) -> None:
        self._keyframe_wanted = True

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self.sent * self._interval_s - time.monotonic()))
        if self._keyframe_wanted and self._keyframe_every:
            self._keyframe_wanted = False
            if self._position % self._keyframe_every:
                self._position = (self._position // self._keyframe_every + 1) * self._keyframe_every
                self._position %= len(self._frames)
                self.keyframes_on_request += 1
        packet = av.Packet(self._frames[self._position])
        packet.pts, packet.time_base = self.sent * self._step, self._time_base
        self.send_times.append(time.monotonic())
        self.sent_as[self._position] = self.sent
        self._position = (self._position + 1) % len(self._frames)
        self.sent += 1
        return packet


@dataclass
class BenchBrowser:
    """A participant's browser: sends the clip and a tone, decodes what it gets and reads the numbers."""

    clip: list[bytes]
    tone: list[bytes] | None
    pc: RTCPeerConnection = field(default_factory=lambda: RTCPeerConnection(RTCConfiguration(iceServers=[])))
    received: list[tuple[int, float]] = field(default_factory=list)
    unreadable: int = 0
    audio_frames: int = 0
    video: PacedEncodedTrack | None = None
    other: BenchBrowser | None = None  # whose frames this browser receives
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    send_video: bool = True  # False: an audio visit's browser (the tone only)

    def __post_init__(self) -> None:
        if self.send_video:
            self.video = PacedEncodedTrack("video", self.clip, 1 / FPS, 90_000 // FPS, _VIDEO_TB, KEYFRAME_EVERY)
            aiortc_adapter.on_keyframe_request(self.pc.addTrack(self.video), self.video.request_keyframe)
        if self.tone is not None:
            self.pc.addTrack(PacedEncodedTrack("audio", self.tone, 0.02, 960, _AUDIO_TB))
        self.pc.on("track", lambda track: self.tasks.append(asyncio.ensure_future(self._consume(track))))

    async def _consume(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.VideoFrame):
                self.audio_frames += 1
                continue
            number = read_number(frame)
            if number is None:
                self.unreadable += 1
                continue
            # The clip repeats: this is the latest frame the other browser sent with this clip number.
            assert self.other is not None and self.other.video is not None
            self.received.append((self.other.video.sent_as[number], time.monotonic()))

    async def close(self) -> None:
        await self.pc.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def stream_figures(sender: BenchBrowser, receiver: BenchBrowser, t0: float, t1: float) -> dict[str, Any]:
    """Frames the sender sent in [t0, t1 - 0.5 s] against those the receiver got, and their latencies."""
    if sender.video is None:  # an audio visit: no numbered pictures to follow
        return {"sent": 0, "received": 0, "latencies": []}
    send_times = sender.video.send_times
    window = [n for n, sent_at in enumerate(send_times) if t0 <= sent_at <= t1 - 0.5]
    got = {n: at for n, at in receiver.received}
    latencies = [got[n] - send_times[n] for n in window if n in got]
    return {"sent": len(window), "received": len(latencies), "latencies": latencies}
