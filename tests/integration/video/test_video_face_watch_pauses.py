"""The live face watch pauses the consultation when a stranger sits in the doctor's chair (FACE-02)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from video_browsers import DOCTOR_LUMA, PATIENT_LUMA, wait_until

from hospital.core.errors import InvalidTransition
from hospital.video import FaceCheck

pytestmark = [pytest.mark.asyncio, pytest.mark.requirement("FACE-02")]


class SwitchableChecker:
    """Reports the enrolled doctor until `stranger` is set, then another person's face."""

    def __init__(self) -> None:
        self.stranger = False
        self.checked = 0

    async def __call__(self, rgb: np.ndarray) -> FaceCheck:
        assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8
        self.checked += 1
        return FaceCheck(present=True, match=not self.stranger, distance=0.85 if self.stranger else 0.35)


async def test_a_stranger_beyond_the_grace_period_pauses_until_resume(make_hub, browsers, recorded):
    hub = await make_hub(sample_interval_s=0.2, grace_s=0.6)
    checker = SwitchableChecker()
    patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)
    await patient.join(hub, "visit-f", "patient")
    await doctor.join(hub, "visit-f", "doctor", check_face=checker)
    await wait_until(lambda: checker.checked >= 2 and len(patient.received) >= 5)
    assert "paused" not in recorded.kinds()

    checker.stranger = True
    await wait_until(lambda: "paused" in recorded.kinds())
    room = hub.room("visit-f")
    assert room.paused
    paused = recorded.of("paused")[0]
    assert paused["reason"] == "face_mismatch"
    assert paused["for_s"] >= 0.6
    assert paused["notify"] == ["patient", "doctor"]

    checker.stranger = False  # the doctor is back, but only re-verification resumes the visit
    settled = time.monotonic() + 1.0  # frames already in flight at the pause may still land
    await wait_until(lambda: time.monotonic() > settled + 1.0)
    assert room.paused
    assert patient.frames_since(settled) == []  # the doctor's media no longer reaches the patient
    assert len(doctor.frames_since(settled)) > 5  # the patient is still seen by the doctor

    hub.resume("visit-f")
    resumed_at = time.monotonic()
    await wait_until(lambda: len(patient.frames_since(resumed_at)) >= 5)

    assert not room.paused
    assert recorded.kinds().count("resumed") == 1
    statuses = [d["status"] for d in recorded.of("face_check")]
    assert "ok" in statuses and "face_mismatch" in statuses
    assert [r.status for r in room.face_checks] == statuses
    with pytest.raises(InvalidTransition):
        room.resume()
