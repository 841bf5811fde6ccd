from __future__ import annotations

import numpy as np
import pytest

from hospital.video import FaceCheck
from hospital.video.facewatch import FaceWatch

pytestmark = [pytest.mark.asyncio, pytest.mark.requirement("FACE-02")]

DOCTOR = FaceCheck(present=True, match=True, distance=0.35)
STRANGER = FaceCheck(present=True, match=False, distance=0.84)
NOBODY = FaceCheck(present=False, match=False)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Camera:
    def __init__(self) -> None:
        self.on = True

    def latest_rgb(self, max_age_s: float) -> np.ndarray | None:
        return np.zeros((48, 64, 3), np.uint8) if self.on else None


class Script:
    """Answers each face check with the next scripted result (or raises it)."""

    def __init__(self) -> None:
        self.next: FaceCheck | Exception = DOCTOR

    async def __call__(self, rgb: np.ndarray) -> FaceCheck:
        if isinstance(self.next, Exception):
            raise self.next
        return self.next


class Watched:
    def __init__(self, grace_s: float = 10.0) -> None:
        self.clock, self.camera, self.script = Clock(), Camera(), Script()
        self.checks: list[str] = []
        self.breaches: list[tuple[str, float]] = []

        async def on_breach(reason: str, for_s: float) -> None:
            self.breaches.append((reason, for_s))

        self.watch = FaceWatch(
            self.camera,
            self.script,
            sample_interval_s=3.0,
            grace_s=grace_s,
            max_frame_age_s=2.0,
            check_timeout_s=5.0,
            on_check=lambda record: self.checks.append(record.status),
            on_breach=on_breach,
            clock=self.clock,
        )

    async def sample(self, result: FaceCheck | Exception | None = None, after_s: float = 3.0) -> None:
        if result is not None:
            self.script.next = result
        self.clock.now += after_s
        await self.watch.sample_once()


async def test_a_stranger_for_longer_than_the_grace_period_is_a_breach():
    w = Watched(grace_s=10.0)
    await w.sample(DOCTOR)
    for _ in range(6):  # first wrong sample at t=6; at t=15 it has lasted 9 s, at t=18 12 s > 10 s
        await w.sample(STRANGER)
        if w.breaches:
            break

    assert w.breaches == [("face_mismatch", 12.0)]
    assert w.checks == ["ok"] + ["face_mismatch"] * 5


async def test_the_doctor_seen_again_within_the_grace_clears_the_streak():
    w = Watched(grace_s=10.0)
    for result in (STRANGER, STRANGER, STRANGER, DOCTOR, STRANGER, STRANGER, STRANGER):
        await w.sample(result)

    assert w.breaches == []


async def test_no_face_or_no_picture_counts_as_the_face_missing():
    w = Watched(grace_s=5.0)
    await w.sample(NOBODY)
    w.camera.on = False
    await w.sample()
    await w.sample()

    assert w.checks == ["face_missing", "no_video", "no_video"]
    assert w.breaches == [("face_missing", 6.0)]


async def test_a_breach_is_reported_once_until_reset():
    w = Watched(grace_s=3.0)
    for _ in range(5):
        await w.sample(STRANGER)
    assert len(w.breaches) == 1

    w.watch.reset()
    for _ in range(3):
        await w.sample(STRANGER)

    assert len(w.breaches) == 2


async def test_a_failing_checker_is_recorded_and_neither_clears_nor_starts_a_breach():
    w = Watched(grace_s=5.0)
    await w.sample(STRANGER)
    await w.sample(RuntimeError("face pool down"))
    await w.sample(RuntimeError("face pool down"))

    assert w.checks == ["face_mismatch", "check_failed", "check_failed"]
    assert w.breaches == []
    await w.sample(STRANGER)
    assert w.breaches == [("face_mismatch", 9.0)]


async def test_the_result_series_is_kept_with_times_from_the_start():
    w = Watched()
    await w.sample(DOCTOR)
    await w.sample(STRANGER)

    assert [(r.at_s, r.status, r.distance) for r in w.watch.results] == [
        (3.0, "ok", 0.35),
        (6.0, "face_mismatch", 0.84),
    ]


async def test_a_rejoining_doctor_gets_the_whole_grace_again_but_a_pause_made_stays():
    w = Watched(grace_s=10.0)
    w.camera.on = False  # the doctor's network dropped: no picture
    for _ in range(3):  # 6 s without a picture, then the doctor is back on a new connection
        await w.sample(NOBODY)
    w.watch.restart_grace()
    w.camera.on = True
    for _ in range(4):  # not in the chair yet: the streak starts again at the first sample, 9 s later no breach
        await w.sample(NOBODY)
    assert w.breaches == []  # without the renewed grace it would have lasted 18 s
    await w.sample(NOBODY)  # 12 s into the new streak
    assert w.breaches == [("face_missing", 12.0)]
    w.watch.restart_grace()  # another rejoin does not clear the breach: only a verification (reset) does
    for _ in range(5):
        await w.sample(NOBODY)
    assert len(w.breaches) == 1
