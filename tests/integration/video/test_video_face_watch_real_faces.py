"""The doctor's VP8 stream, decoded by the sampler, checked by real face recognition (FACE-02)."""

from __future__ import annotations

import asyncio
import fractions
import time
import warnings
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from hospital.video import FaceCheck
from hospital.video.facewatch import DoctorFrameSampler, FaceWatch

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import face_recognition

pytestmark = [pytest.mark.asyncio, pytest.mark.requirement("FACE-02")]

FACES = Path("/work/shared/faces")


def webcam_picture(photo: str) -> np.ndarray:
    """The photo as a 640×480 webcam picture (scaled to fit, grey borders)."""
    image = Image.open(FACES / photo).convert("RGB")
    image.thumbnail((640, 480))
    canvas = Image.new("RGB", (640, 480), (128, 128, 128))
    canvas.paste(image, ((640 - image.width) // 2, (480 - image.height) // 2))
    return np.asarray(canvas)


def checker_for(enrolled_photo: str):
    template = face_recognition.face_encodings(face_recognition.load_image_file(FACES / enrolled_photo))[0]

    async def check_face(rgb: np.ndarray) -> FaceCheck:
        def run() -> FaceCheck:
            boxes = face_recognition.face_locations(rgb)
            if not boxes:
                return FaceCheck(present=False, match=False)
            distance = float(min(face_recognition.face_distance(face_recognition.face_encodings(rgb, boxes), template)))
            return FaceCheck(present=True, match=distance <= 0.6, distance=distance)

        return await asyncio.to_thread(run)

    return check_face


async def wait_for_decoded(sampler: DoctorFrameSampler, count: int) -> None:
    deadline = time.monotonic() + 10
    while sampler.decoded < count:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


async def test_the_enrolled_doctor_passes_and_another_person_is_a_breach():
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 640, 480, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 90_000)
    encoder.bit_rate = 1_500_000  # the top of aiortc's VP8 range: a webcam picture a viewer can judge
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    sampler, source = DoctorFrameSampler(), object()
    breaches: list[str] = []

    async def on_breach(reason: str, for_s: float) -> None:
        breaches.append(reason)

    watch = FaceWatch(
        sampler,
        checker_for("obama.jpg"),
        sample_interval_s=3.0,
        grace_s=0.0,
        max_frame_age_s=5.0,
        check_timeout_s=30.0,
        on_check=lambda record: None,
        on_breach=on_breach,
    )

    def send(photo: str, first: int) -> None:
        picture = av.VideoFrame.from_ndarray(webcam_picture(photo), format="rgb24").reformat(format="yuv420p")
        for n in range(first, first + 5):
            picture.pts = n * 6000
            for packet in encoder.encode(picture):
                sampler.add(source, bytes(packet))

    try:
        send("obama2.jpg", 0)  # a different photo of the enrolled doctor
        await wait_for_decoded(sampler, 5)
        doctor = await watch.sample_once()
        send("biden.jpg", 5)
        await wait_for_decoded(sampler, 10)
        stranger = await watch.sample_once()
    finally:
        await sampler.aclose()

    assert doctor.status == "ok" and doctor.distance is not None and doctor.distance < 0.6
    assert stranger.status == "face_mismatch" and stranger.distance is not None and stranger.distance > 0.6
    assert breaches == ["face_mismatch"]
