"""Uploaded face images: checked from their bytes before any decoding, then decoded to an RGB array.

`check_upload` costs microseconds (length, magic bytes, the image header) and runs in the request's own
process, so an oversized, mislabelled or bomb-like upload never reaches a worker (FACE-01, FACE-02).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from hospital.core.errors import PayloadTooLarge, UnsupportedMediaType

__all__ = [
    "ALLOWED_MEDIA_TYPES",
    "CheckedUpload",
    "RGBImage",
    "check_upload",
    "decode_rgb",
    "reduce_long_side",
    "sniff_media_type",
]

RGBImage = npt.NDArray[np.uint8]

ALLOWED_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
# Names clients use for the same types; anything else declared must equal the sniffed type.
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    """An upload that passed `check_upload`: its sniffed type and its size in pixels."""

    media_type: str
    width: int
    height: int


def sniff_media_type(data: bytes) -> str | None:
    """The allowed media type the magic bytes announce, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _normalise(content_type: str) -> str:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(media_type, media_type)


def check_upload(data: bytes, content_type: str | None, *, max_bytes: int, max_pixels: int) -> CheckedUpload:
    """Refuse an upload that is too big, not JPEG/PNG/WebP, labelled as something else, or a pixel bomb.

    `content_type` is what the client declared; None means it declared nothing and the bytes decide.
    Raises PayloadTooLarge or UnsupportedMediaType; decodes no pixel.
    """
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The image is {len(data)} bytes; the limit is {max_bytes} bytes.",
            size=len(data),
            limit=max_bytes,
        )
    media_type = sniff_media_type(data)
    if media_type is None:
        raise UnsupportedMediaType(
            "The upload is not a JPEG, PNG or WebP image.", allowed=list(ALLOWED_MEDIA_TYPES)
        )
    if content_type is not None and _normalise(content_type) != media_type:
        raise UnsupportedMediaType(
            f"The upload is declared as {content_type!r} but its content is {media_type}.",
            declared=content_type,
            detected=media_type,
        )
    width, height = _header_size(data, media_type)
    if width * height > max_pixels:
        raise PayloadTooLarge(
            f"The image is {width}×{height} pixels; the limit is {max_pixels} pixels.",
            pixels=width * height,
            limit=max_pixels,
        )
    return CheckedUpload(media_type, width, height)


def _header_size(data: bytes, media_type: str) -> tuple[int, int]:
    # Image.open parses the header only; pixels are decoded later by load().
    try:
        with _open(data, media_type) as image:
            return image.size
    except Image.DecompressionBombError as exc:  # Pillow's own hard limit, far above ours
        raise PayloadTooLarge(f"The image has too many pixels: {exc}.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMediaType(f"The {media_type} image cannot be read: {exc}.") from exc


def _open(data: bytes, media_type: str) -> Image.Image:
    with warnings.catch_warnings():
        # Our own pixel limit is checked before load; Pillow's global bomb warning is noise here.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[media_type]])


def decode_rgb(
    data: bytes, content_type: str | None, *, max_bytes: int, max_pixels: int, long_side: int
) -> RGBImage:
    """Check the upload, then decode it upright (EXIF orientation applied) to RGB, long side ≤ `long_side`.

    JPEGs are decoded directly at a reduced scale when they are much bigger than needed, which is most of
    the cost of a large phone photo.
    """
    checked = check_upload(data, content_type, max_bytes=max_bytes, max_pixels=max_pixels)
    try:
        with _open(data, checked.media_type) as image:
            if checked.media_type == "image/jpeg":
                # draft() picks a DCT scale (1/2, 1/4, 1/8) that still covers the requested size.
                scale = long_side / max(image.size)
                if scale < 1:
                    image.draft("RGB", (round(image.width * scale), round(image.height * scale)))
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UnsupportedMediaType(f"The {checked.media_type} image cannot be decoded: {exc}.") from exc
    return reduce_long_side(np.asarray(rgb, dtype=np.uint8), long_side)


def reduce_long_side(rgb: RGBImage, long_side: int) -> RGBImage:
    """`rgb` scaled down so its long side is at most `long_side`; returned unchanged when already small."""
    height, width = rgb.shape[:2]
    if max(height, width) <= long_side:
        return rgb
    scale = long_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(image, dtype=np.uint8)
