"""Upload checks (FACE-01, FACE-02): refused from the bytes before any pixel is decoded."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from hospital.biometrics import images
from hospital.biometrics.images import check_upload, decode_rgb, sniff_media_type
from hospital.core.errors import PayloadTooLarge, UnsupportedMediaType

pytestmark = pytest.mark.requirement("FACE-01")

LIMITS = {"max_bytes": 8 * 1024 * 1024, "max_pixels": 40_000_000}


def _encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width×height and which has no pixel data: a decompression bomb's shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def pillow_must_not_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the upload was opened by Pillow")

    monkeypatch.setattr(images.Image, "open", refuse)


def test_jpeg_png_and_webp_are_recognised_from_their_magic_bytes() -> None:
    small = Image.new("RGB", (8, 8), "white")
    assert sniff_media_type(_encoded(small, "JPEG")) == "image/jpeg"
    assert sniff_media_type(_encoded(small, "PNG")) == "image/png"
    assert sniff_media_type(_encoded(small, "WEBP")) == "image/webp"
    assert sniff_media_type(_encoded(small, "GIF")) is None


def test_an_oversized_upload_is_refused_without_decoding(
    photo: Callable[[str], bytes], pillow_must_not_decode: None
) -> None:
    data = photo("obama.jpg")
    with pytest.raises(PayloadTooLarge) as refused:
        check_upload(data, "image/jpeg", max_bytes=len(data) - 1, max_pixels=40_000_000)
    assert refused.value.extra["limit"] == len(data) - 1


def test_pdf_bytes_labelled_as_jpeg_are_refused(pillow_must_not_decode: None) -> None:
    with pytest.raises(UnsupportedMediaType):
        check_upload(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "image/jpeg", **LIMITS)


def test_text_labelled_as_jpeg_is_refused(pillow_must_not_decode: None) -> None:
    with pytest.raises(UnsupportedMediaType):
        check_upload(b"this is not a photograph", "image/jpeg", **LIMITS)


def test_a_png_declared_as_jpeg_is_refused(pillow_must_not_decode: None) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with pytest.raises(UnsupportedMediaType) as refused:
        check_upload(png, "image/jpeg", **LIMITS)
    assert refused.value.extra == {"declared": "image/jpeg", "detected": "image/png"}


def test_a_declared_type_with_parameters_or_an_alias_is_accepted() -> None:
    jpeg = _encoded(Image.new("RGB", (8, 8)), "JPEG")
    assert check_upload(jpeg, "image/JPEG; charset=binary", **LIMITS).media_type == "image/jpeg"
    assert check_upload(jpeg, "image/jpg", **LIMITS).media_type == "image/jpeg"
    assert check_upload(jpeg, None, **LIMITS).media_type == "image/jpeg"


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = _png_header_only(8_000, 8_000)
    assert len(bomb) < 100
    with pytest.raises(PayloadTooLarge) as refused:
        check_upload(bomb, "image/png", **LIMITS)
    assert refused.value.extra["pixels"] == 64_000_000


def test_a_bomb_beyond_pillows_own_limit_is_refused_as_too_large_too() -> None:
    with pytest.raises(PayloadTooLarge):
        check_upload(_png_header_only(60_000, 60_000), "image/png", **LIMITS)


def test_a_truncated_header_is_refused_as_unreadable() -> None:
    with pytest.raises(UnsupportedMediaType):
        check_upload(b"\x89PNG\r\n\x1a\n\x00\x00", "image/png", **LIMITS)


def test_exif_orientation_is_applied_when_decoding() -> None:
    stored = Image.new("RGB", (60, 20), "white")
    stored.paste((255, 0, 0), (0, 0, 10, 20))  # red band on the stored image's left edge
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display rotated 90° clockwise
    data = _encoded(stored, "JPEG", exif=exif, quality=95)
    rgb = decode_rgb(data, "image/jpeg", **LIMITS, long_side=1024)
    assert rgb.shape == (60, 20, 3)
    assert rgb[2, 10, 0] > 200 and rgb[2, 10, 1] < 60  # the red band is now along the top
    assert rgb[-3, 10, 1] > 200


def test_a_large_photo_is_reduced_to_the_working_size(photo: Callable[[str], bytes]) -> None:
    rgb = decode_rgb(photo("obama3.jpg"), "image/jpeg", **LIMITS, long_side=1024)
    assert max(rgb.shape[:2]) == 1024
    assert rgb.dtype == np.uint8 and rgb.shape[2] == 3


def test_webp_and_rgba_png_decode_to_rgb() -> None:
    rgba = Image.new("RGBA", (30, 20), (10, 200, 30, 128))
    for fmt, media_type in (("WEBP", "image/webp"), ("PNG", "image/png")):
        rgb = decode_rgb(_encoded(rgba, fmt), media_type, **LIMITS, long_side=1024)
        assert rgb.shape == (20, 30, 3)
