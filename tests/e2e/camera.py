"""A fake webcam for Chromium: a photo turned into a .y4m file (`--use-file-for-fake-video-capture`).

The frame is 640×480, cropped around the chosen face (faces sorted left to right) so it fills the picture
as a webcam's would, then written as raw YUV 4:2:0 frames under a YUV4MPEG2 header.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

__all__ = ["HEIGHT", "WIDTH", "portrait", "write_y4m"]

WIDTH, HEIGHT = 640, 480


def _face_boxes(image: Image.Image) -> list[tuple[int, int, int, int]]:
    import face_recognition

    small = image.copy()
    small.thumbnail((800, 800))
    scale = image.width / small.width
    boxes = face_recognition.face_locations(np.asarray(small.convert("RGB")), number_of_times_to_upsample=1)
    scaled = [tuple(round(side * scale) for side in box) for box in boxes]
    return sorted(scaled, key=lambda box: box[3])  # type: ignore[return-value]


def portrait(photo: Path, face: int = 0) -> Image.Image:
    """A 640×480 RGB frame centred on face number `face` (left to right) of `photo`."""
    image = ImageOps.exif_transpose(Image.open(photo)).convert("RGB")
    boxes = _face_boxes(image)
    if not boxes:
        raise ValueError(f"no face in {photo}")
    top, right, bottom, left = boxes[face]
    # A webcam at arm's length: the face takes about 40 % of the frame's height.
    height = min(image.height, max(HEIGHT // 2, round((bottom - top) * 2.5)))
    width = min(image.width, round(height * WIDTH / HEIGHT))
    height = round(width * HEIGHT / WIDTH)
    cx, cy = (left + right) // 2, (top + bottom) // 2
    x0 = min(max(cx - width // 2, 0), image.width - width)
    y0 = min(max(cy - height // 2, 0), image.height - height)
    return image.crop((x0, y0, x0 + width, y0 + height)).resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def write_y4m(frame: Image.Image, path: Path, frames: int = 2) -> Path:
    """Write `frame` (RGB, 640×480) as a 15 fps YUV 4:2:0 .y4m that Chromium loops as its camera."""
    ycbcr = np.asarray(frame.convert("YCbCr"), dtype=np.uint8)
    y = ycbcr[:, :, 0]
    # 4:2:0: each chroma sample is the mean of a 2×2 block.
    cb = ycbcr[:, :, 1].reshape(HEIGHT // 2, 2, WIDTH // 2, 2).mean(axis=(1, 3)).round().astype(np.uint8)
    cr = ycbcr[:, :, 2].reshape(HEIGHT // 2, 2, WIDTH // 2, 2).mean(axis=(1, 3)).round().astype(np.uint8)
    payload = y.tobytes() + cb.tobytes() + cr.tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F15:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + payload)
    return path
