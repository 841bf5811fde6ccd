"""Fixtures for the face engine's tests: the shared photos, decoded, and enrolment templates cached per module
(an encoding costs 0.1–0.8 s with dlib-bin)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from hospital.biometrics.images import RGBImage, decode_rgb
from hospital.biometrics.settings import FaceSettings

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    shared = Path(os.environ.get("HOSPITAL_SHARED_DIR", REPO_ROOT.parent / "shared"))
    faces = shared / "faces"
    if not (faces / "obama.jpg").is_file():
        raise RuntimeError(f"the shared face photos are not in {faces}; set HOSPITAL_SHARED_DIR")
    return faces


@pytest.fixture(scope="session")
def settings() -> FaceSettings:
    return FaceSettings(workers=0)


@pytest.fixture(scope="session")
def photo(faces_dir: Path) -> Callable[[str], bytes]:
    """The bytes of one of the shared photos, by file name."""
    return lambda name: (faces_dir / name).read_bytes()


@pytest.fixture(scope="session")
def decode(settings: FaceSettings) -> Callable[[bytes], RGBImage]:
    """Decode upload bytes the way the engine's jobs do."""
    return lambda data: decode_rgb(
        data,
        None,
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_pixels,
        long_side=settings.working_long_side,
    )


@pytest.fixture(scope="session")
def resized_enrolment_photo(photo: Callable[[str], bytes]) -> bytes:
    """obama.jpg at 60 % of its size, saved again as JPEG at quality 80: a replayed enrolment photo."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(photo("obama.jpg")))).convert("RGB")
    out = io.BytesIO()
    image.resize((round(image.width * 0.6), round(image.height * 0.6))).save(out, "JPEG", quality=80)
    return out.getvalue()


@pytest.fixture(scope="session")
def faceless_png() -> bytes:
    """A 640×480 colour gradient: a valid image with no face."""
    x = np.linspace(0, 255, 640, dtype=np.uint8)
    y = np.linspace(0, 255, 480, dtype=np.uint8)
    rgb = np.stack(np.broadcast_arrays(x[None, :], y[:, None], 128 * np.ones((480, 640), np.uint8)), axis=-1)
    out = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(out, "PNG")
    return out.getvalue()
