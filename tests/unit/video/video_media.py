"""Encoded media made locally for the unit tests: real VP8 and Opus packets, no network."""

from __future__ import annotations

import fractions

import av
import numpy as np


def vp8_frames(count: int, width: int = 320, height: int = 240, *, keyframe_every: int = 0) -> list[bytes]:
    """`count` VP8 frames of a moving gradient; the first is a keyframe (and every `keyframe_every`-th)."""
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 90_000)
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    frames: list[bytes] = []
    for n in range(count):
        rgb = np.zeros((height, width, 3), np.uint8)
        rgb[..., 0] = (np.arange(width) + 4 * n) % 256
        rgb[..., 1] = 128
        picture = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        picture.pts = n * 6000
        if keyframe_every and n % keyframe_every == 0:
            picture.pict_type = av.video.frame.PictureType.I
        frames += [bytes(p) for p in encoder.encode(picture)]
    return frames


def opus_frames(count: int) -> list[bytes]:
    """`count` 20 ms Opus frames of a quiet tone."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48_000, "stereo", "s16"
    encoder.time_base = fractions.Fraction(1, 48_000)
    frames: list[bytes] = []
    n = 0
    while len(frames) < count:
        t = (np.arange(960) + n * 960) / 48_000
        tone = (1000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        samples = av.AudioFrame.from_ndarray(np.repeat(tone, 2).reshape(1, -1), format="s16", layout="stereo")
        samples.sample_rate, samples.pts = 48_000, n * 960
        frames += [bytes(p) for p in encoder.encode(samples)]
        n += 1
    return frames[:count]
