"""The call's rules and small parts, without a database or a peer: who joins when (REV-04), who resumes (FACE-02),
how a face-pool answer becomes a face check, who hears which notice, and the video settings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from hospital.biometrics.values import Verification, VerificationReason
from hospital.config import ConfigurationError, Settings, load_settings
from hospital.core.errors import AccessRefused, InvalidTransition, RuleViolation
from hospital.video import FaceCheck
from hospital.video.calls import ice_settings, video_settings
from hospital.video.checker import face_check_of, pool_face_checker
from hospital.video.notices import CallNotices
from hospital.video.rules import check_call_open, check_may_resume, doctor_join_starts_visit

pytestmark = pytest.mark.requirement("FACE-02", "REV-04")

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("state", ["accepted", "in_progress"])
def test_an_accepted_or_running_visit_holds_a_call(state: str) -> None:
    check_call_open(state)


@pytest.mark.parametrize("state", ["requested", "completed", "terminated", "cancelled"])
def test_any_other_visit_refuses_the_call_naming_its_state(state: str) -> None:
    with pytest.raises(InvalidTransition) as refused:
        check_call_open(state)
    assert refused.value.current_state == state


def test_only_the_doctor_coming_on_camera_starts_an_accepted_visit() -> None:
    assert doctor_join_starts_visit("doctor", "accepted")
    assert not doctor_join_starts_visit("patient", "accepted")
    assert not doctor_join_starts_visit("doctor", "in_progress")


def test_resuming_needs_a_pause_and_a_verification_younger_than_the_window() -> None:
    with pytest.raises(InvalidTransition):
        check_may_resume("doctor", False, NOW, NOW, 120)
    for verified_at in (None, NOW - timedelta(minutes=3)):
        with pytest.raises(AccessRefused) as refused:
            check_may_resume("doctor", True, verified_at, NOW, 120)
        assert refused.value.rule_id == "FACE-02"
    with pytest.raises(AccessRefused):
        check_may_resume("patient", True, NOW, NOW, 120)
    check_may_resume("doctor", True, NOW - timedelta(seconds=90), NOW, 120)


def test_a_face_pool_answer_is_a_face_check_and_the_replayed_enrolment_photo_is_not_the_doctor() -> None:
    def verification(distance: float, reason: VerificationReason) -> Verification:
        return Verification(match=reason is VerificationReason.MATCH, distance=distance, tolerance=0.5, reason=reason)

    assert face_check_of(verification(0.35, VerificationReason.MATCH)) == FaceCheck(True, True, 0.35)
    assert face_check_of(verification(0.83, VerificationReason.MISMATCH)) == FaceCheck(True, False, 0.83)
    assert face_check_of(verification(0.05, VerificationReason.REPLAY)) == FaceCheck(True, False, 0.05)


class RefusingPool:
    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.templates: list[bytes] = []

    async def verify_frame(self, template: bytes, rgb: Any) -> Verification:
        self.templates.append(template)
        raise RuleViolation("FACE-02", "not exactly one face", reason=self.reason)


@pytest.mark.asyncio
async def test_no_face_is_an_empty_chair_and_several_faces_are_not_the_doctor() -> None:
    picture = np.zeros((48, 64, 3), np.uint8)
    for reason, expected in (("no_face", FaceCheck(False, False)), ("several_faces", FaceCheck(True, False))):
        pool = RefusingPool(reason)
        ctx: Any = SimpleNamespace(face_pool=lambda pool=pool: pool)
        assert await pool_face_checker(ctx, b"template")(picture) == expected
        assert pool.templates == [b"template"]


@pytest.mark.asyncio
async def test_a_notice_reaches_the_open_pages_of_its_visit_and_roles_only() -> None:
    notices = CallNotices()
    with notices.subscribe("v1", "patient") as patient, notices.subscribe("v1", "doctor") as doctor, \
            notices.subscribe("v2", "doctor") as elsewhere:
        assert notices.publish("v1", {"kind": "face_check"}, roles=("doctor",)) == 1
        assert notices.publish("v1", {"kind": "paused"}) == 2
        await asyncio.sleep(0)
        assert [doctor.queue.get_nowait(), doctor.queue.get_nowait()] == [{"kind": "face_check"}, {"kind": "paused"}]
        assert patient.queue.get_nowait() == {"kind": "paused"} and elsewhere.queue.empty()
        notices.close_all()
        await asyncio.sleep(0)
        assert patient.queue.get_nowait() is None
    assert notices.listeners("v1") == 0 and notices.publish("v1", {"kind": "paused"}) == 0


def test_video_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings({"HOSPITAL_DATA_DIR": str(tmp_path), "HOSPITAL_VIDEO_SAMPLE_INTERVAL": "1.5",
                              "HOSPITAL_VIDEO_GRACE": "6", "HOSPITAL_STUN_URLS": "stun:a.test:3478, stun:b.test",
                              "HOSPITAL_TURN_URLS": "turns:t.test:5349", "HOSPITAL_TURN_SECRET": "s3cret",
                              "HOSPITAL_VIDEO_RECORDING_DIR": str(tmp_path / "rec")})
    video = video_settings(settings)
    assert (video.sample_interval_s, video.grace_s, video.recording_dir) == (1.5, 6.0, tmp_path / "rec")
    ice = ice_settings(settings)
    assert ice.stun_urls == ("stun:a.test:3478", "stun:b.test") and ice.turn_secret == "s3cret"
    assert video_settings(Settings(data_dir=tmp_path)).recording_dir == tmp_path / "recordings-in-progress"


@pytest.mark.parametrize("env", [{"HOSPITAL_TURN_URLS": "turn:t.test"}, {"HOSPITAL_STUN_URLS": "http://x"},
                                 {"HOSPITAL_VIDEO_SAMPLE_INTERVAL": "0"}, {"HOSPITAL_VIDEO_GRACE": "soon"}])
def test_unusable_video_settings_refuse_to_start(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        settings = load_settings(env)
        ice_settings(settings)
        video_settings(settings)
