"""`rules.judge_liveness` (FACE-02), the pure decision on a burst's observations: identity on every frame, frames
that differ, and the challenge's moves in its order, nothing more and nothing less."""

from __future__ import annotations

import pytest

from hospital.biometrics.rules import judge_liveness
from hospital.biometrics.values import BurstObservation, FrameObservation

pytestmark = pytest.mark.requirement("FACE-02")

REST = FrameObservation(distance=0.36, yaw=-0.38, eye_span=0.19)
POSES = {
    "rest": REST,
    "turn_left": FrameObservation(0.40, -0.30, 0.18),
    "turn_right": FrameObservation(0.45, -0.46, 0.18),
    "closer": FrameObservation(0.36, -0.39, 0.26),
    "someone_else": FrameObservation(0.85, -0.38, 0.19),
    "enrolment_photo": FrameObservation(0.06, -0.38, 0.19),
}
STEPS = ("turn_left", "turn_right", "closer")


def judged(*poses: str, changes: float = 1.5, steps: tuple[str, ...] = STEPS) -> tuple[bool, str, tuple[str, ...]]:
    burst = BurstObservation(tuple(POSES[p] for p in poses), tuple(changes for _ in poses[1:]))
    verdict = judge_liveness(steps, burst, tolerance=0.5, replay_distance=0.2, turn_yaw=0.05, closer_ratio=1.15,
                             min_frame_change=0.3)
    return verdict.passed, verdict.reason, verdict.performed


@pytest.mark.parametrize("poses", [
    ("rest", "turn_left", "rest", "turn_right", "rest", "closer"),
    ("rest", "turn_left", "turn_right", "closer"),  # no rest between moves
    ("rest", "rest", "turn_left", "turn_left", "rest", "turn_right", "rest", "closer", "closer", "rest"),
])
def test_the_moves_in_the_challenges_order_pass(poses: tuple[str, ...]) -> None:
    assert judged(*poses) == (True, "match", STEPS)


@pytest.mark.parametrize(("poses", "reason"), [
    (("rest", "turn_left", "someone_else", "turn_right", "closer"), "mismatch"),
    (("rest", "turn_left", "enrolment_photo", "turn_right", "closer"), "replay"),
    (("rest", "rest", "rest", "rest"), "no_motion"),
    (("rest", "turn_right", "turn_left", "closer"), "wrong_order"),
    (("rest", "turn_left", "turn_right"), "moves_not_performed"),  # one missing
    (("rest", "turn_left", "turn_right", "turn_left", "closer"), "moves_not_performed"),  # waving both ways
])
def test_anything_else_is_refused_with_its_reason(poses: tuple[str, ...], reason: str) -> None:
    passed, why, _ = judged(*poses)
    assert (passed, why) == (False, reason)


def test_frames_that_do_not_differ_are_a_still_picture_even_when_the_moves_look_right() -> None:
    assert judged("rest", "turn_left", "turn_right", "closer", changes=0.0)[:2] == (False, "still")
