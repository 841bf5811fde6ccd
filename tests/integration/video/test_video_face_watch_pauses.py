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


async def test_a_doctor_who_rejoins_gets_the_whole_grace_again_and_a_pause_survives_the_rejoin(
        make_hub, browsers, recorded):
    """After a dropped network the doctor's new connection is watched with the whole grace again (the breach
    clock restarts at the rejoin, so a network drop is not counted against the doctor); a pause already made
    stays until the doctor verifies again."""
    hub = await make_hub(sample_interval_s=0.2, grace_s=2.0)
    checker = SwitchableChecker()
    checker.stranger = True  # nobody verifiable in the chair from the start
    patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)
    await patient.join(hub, "visit-g", "patient")
    await doctor.join(hub, "visit-g", "doctor", check_face=checker)
    await wait_until(lambda: recorded.kinds().count("face_check") >= 3)  # the breach clock runs: 0.4 s of 2 s
    assert "paused" not in recorded.kinds()

    doctor_again = browsers(DOCTOR_LUMA)
    await doctor_again.join(hub, "visit-g", "doctor")  # rejoins (replacing the dropped connection)
    await wait_until(lambda: "paused" in recorded.kinds(), timeout=15)
    kinds = recorded.kinds()
    rejoined = max(i for i, (_, kind, data) in enumerate(recorded.events) if kind == "joined" and data["rejoined"])
    assert kinds.index("paused") > rejoined, f"paused before the rejoin (a loaded machine?): {kinds}"
    samples_after = kinds[rejoined:kinds.index("paused")].count("face_check")
    # The grace counted from the rejoin: 2 s of wrong samples every 0.2 s is about the eleventh sample after it;
    # without the restart the old streak (begun at least 0.4 s before the rejoin) would run out by the seventh.
    # 2 s of grace leaves a loaded machine time to finish the rejoin before the old streak would end.
    assert samples_after >= 8, kinds
    assert recorded.of("paused")[0]["for_s"] >= 1.0

    doctor_third = browsers(DOCTOR_LUMA)
    await doctor_third.join(hub, "visit-g", "doctor")  # another rejoin while paused
    assert hub.room("visit-g").paused and recorded.of("joined")[-1]["paused"] is True
    assert recorded.kinds().count("paused") == 1
