"""Synthetic liveness bursts built from one still photo: the conformance HTTP driver answers a hospital's liveness
challenge with them (FACE-02), and the tests and bench/face_verify.py use them (through tests/bursts.py).

SYNTHETIC: these frames are transforms of a single photograph, not a recording of a person. A horizontal
perspective warp (one side of the picture squeezed in height) moves dlib's landmark yaw as a head turn does;
cropping and scaling back up moves the eye span as coming closer does; a little noise and a one-pixel shift
make consecutive frames differ as a camera's do. PERFORMANCE.md ("Face liveness") measured that this is
enough to answer a turn challenge, which is exactly why a tilted printed photo can answer one too
(docs/face-liveness.md says what the check stops and what it does not).
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence

import numpy as np
from PIL import Image

__all__ = ["burst", "frame", "jpeg"]

# How much of the height one side loses in a "turn" (measured on obama2.jpg to move the landmark yaw by about
# 0.08 either way while the face stays under the 0.50 tolerance), and how much a "closer" frame zooms.
TURN_SQUEEZE = {"turn_left": 0.36, "turn_right": 0.28}
CLOSER_ZOOM = 1.35


def _base(photo: bytes, long_side: int = 640) -> Image.Image:
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    image.thumbnail((long_side, long_side), Image.Resampling.BILINEAR)
    return image


def _perspective_coefficients(output: Sequence[tuple[float, float]], source: Sequence[tuple[float, float]]
                              ) -> tuple[float, ...]:
    """The 8 coefficients Image.transform(PERSPECTIVE) wants: output pixel (x, y) -> source pixel."""
    rows, values = [], []
    for (x, y), (u, v) in zip(output, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return tuple(float(c) for c in np.linalg.solve(np.array(rows, dtype=np.float64), np.array(values)))


def _squeeze(image: Image.Image, side: str, amount: float) -> Image.Image:
    """A true perspective warp: the `side` edge ("left" or "right") shrinks to (1 - amount) of the height, as a
    picture turned about its vertical axis looks; the far side is foreshortened, so the nose moves sideways
    against the jaw line."""
    width, height = image.size
    inset = amount * height / 2
    if side == "right":
        shown = [(0, 0), (width, inset), (width, height - inset), (0, height)]
    else:
        shown = [(0, inset), (width, 0), (width, height), (0, height - inset)]
    corners = [(0, 0), (width, 0), (width, height), (0, height)]
    return image.transform(image.size, Image.Transform.PERSPECTIVE, _perspective_coefficients(shown, corners),
                           Image.Resampling.BILINEAR)


def _zoom(image: Image.Image, factor: float) -> Image.Image:
    width, height = image.size
    crop_w, crop_h = width / factor, height / factor
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    return image.crop((round(left), round(top), round(left + crop_w), round(top + crop_h))).resize(
        image.size, Image.Resampling.BILINEAR)


def frame(photo: bytes, pose: str = "neutral", *, seed: int = 0, squeeze: float | None = None,
          noise: bool = True) -> Image.Image:
    """One synthetic frame: "neutral", "turn_left", "turn_right" or "closer", with camera-like noise.

    `squeeze` overrides TURN_SQUEEZE for a turn (another photo needs its own: see PERFORMANCE.md)."""
    image = _base(photo)
    # Squeezing the picture's right edge moves the nose towards the image's right, as turning to one's own left
    # does in an unmirrored camera image (engine.FramePose: yaw grows).
    if pose == "turn_left":
        image = _squeeze(image, "right", squeeze or TURN_SQUEEZE[pose])
    elif pose == "turn_right":
        image = _squeeze(image, "left", squeeze or TURN_SQUEEZE[pose])
    elif pose == "closer":
        image = _zoom(image, CLOSER_ZOOM)
    elif pose != "neutral":
        raise ValueError(pose)
    if not noise:
        return image
    rng = np.random.default_rng(seed)
    pixels = np.asarray(image, dtype=np.int16)
    pixels = np.roll(pixels, shift=(seed % 3) - 1, axis=1)
    pixels = np.clip(pixels + rng.normal(0, 2.0, pixels.shape), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def burst(photo: bytes, steps: Sequence[str], *, per_pose: int = 2, seed: int | None = None,
          squeeze: dict[str, float] | None = None, rests: bool = True) -> list[bytes]:
    """JPEG frames answering `steps`: neutral, then each step with a return to neutral between (`per_pose` each);
    `rests=False`: no return between moves (with `per_pose=1`, the pages' burst: rest, then one frame per move).
    `squeeze`: a turn's squeeze for this photo where TURN_SQUEEZE's (measured on obama2.jpg) moves it too little."""
    rng = random.Random(seed)  # nosec B311: jitter for synthetic test frames, not a secret
    poses = ["neutral"] * per_pose
    for step in steps:
        poses += [step] * per_pose + (["neutral"] if rests else [])
    return [jpeg(frame(photo, pose, seed=rng.randrange(1 << 30), squeeze=(squeeze or {}).get(pose)))
            for pose in poses]
