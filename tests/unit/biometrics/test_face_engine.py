"""The face engine on the shared photos: enrolment (FACE-01) and verification (FACE-02)."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image, ImageOps

from hospital.biometrics import engine
from hospital.biometrics.images import RGBImage, reduce_long_side
from hospital.biometrics.settings import FaceSettings
from hospital.biometrics.values import FaceTemplate, Verification, VerificationReason
from hospital.core.errors import RuleViolation

pytestmark = pytest.mark.requirement("FACE-01", "FACE-02")

Decode = Callable[[bytes], RGBImage]
Photo = Callable[[str], bytes]


@pytest.fixture(scope="module")
def obama_template(photo: Photo, decode: Decode) -> FaceTemplate:
    return engine.encode_enrolment(decode(photo("obama.jpg")))


def _verify(template: FaceTemplate, rgb: RGBImage, settings: FaceSettings) -> Verification:
    return engine.verify(
        template, rgb, tolerance=settings.tolerance, replay_distance=settings.replay_distance
    )


@pytest.mark.parametrize("probe", ["obama2.jpg", "obama3.jpg"])
def test_another_photo_of_the_enrolled_person_matches(
    obama_template: FaceTemplate, photo: Photo, decode: Decode, settings: FaceSettings, probe: str
) -> None:
    verification = _verify(obama_template, decode(photo(probe)), settings)
    assert verification.match
    assert verification.reason is VerificationReason.MATCH
    assert settings.replay_distance <= verification.distance <= settings.tolerance


def test_another_person_does_not_match(
    obama_template: FaceTemplate, photo: Photo, decode: Decode, settings: FaceSettings
) -> None:
    verification = _verify(obama_template, decode(photo("biden.jpg")), settings)
    assert not verification.match
    assert verification.reason is VerificationReason.MISMATCH
    assert verification.distance > settings.tolerance


def test_a_resized_copy_of_the_enrolment_photo_is_refused_as_a_replay(
    obama_template: FaceTemplate, resized_enrolment_photo: bytes, decode: Decode, settings: FaceSettings
) -> None:
    verification = _verify(obama_template, decode(resized_enrolment_photo), settings)
    assert not verification.match
    assert verification.reason is VerificationReason.REPLAY
    assert verification.distance < settings.replay_distance


def test_a_probe_showing_several_faces_is_refused(
    obama_template: FaceTemplate, photo: Photo, decode: Decode, settings: FaceSettings
) -> None:
    with pytest.raises(RuleViolation) as refused:
        _verify(obama_template, decode(photo("obama_and_biden.jpg")), settings)
    assert refused.value.rule_id == "FACE-02"
    assert refused.value.extra["reason"] == "several_faces"


def test_a_probe_without_a_face_is_refused(
    obama_template: FaceTemplate, faceless_png: bytes, decode: Decode, settings: FaceSettings
) -> None:
    with pytest.raises(RuleViolation) as refused:
        _verify(obama_template, decode(faceless_png), settings)
    assert refused.value.rule_id == "FACE-02"
    assert refused.value.extra["reason"] == "no_face"


def test_an_enrolment_photo_with_several_faces_is_refused(photo: Photo, decode: Decode) -> None:
    with pytest.raises(RuleViolation) as refused:
        engine.encode_enrolment(decode(photo("obama_and_biden.jpg")))
    assert refused.value.rule_id == "FACE-01"
    assert refused.value.extra["reason"] == "several_faces"


def test_an_enrolment_photo_without_a_face_is_refused(faceless_png: bytes, decode: Decode) -> None:
    with pytest.raises(RuleViolation) as refused:
        engine.encode_enrolment(decode(faceless_png))
    assert refused.value.rule_id == "FACE-01"
    assert refused.value.extra["reason"] == "no_face"


def test_an_enrolment_photo_with_a_small_face_is_refused(photo: Photo, decode: Decode) -> None:
    # obama.jpg at a quarter of its size: the face box is about 75 px across.
    full = Image.open(io.BytesIO(photo("obama.jpg"))).convert("RGB")
    small = np.asarray(full.resize((full.width // 4, full.height // 4)))
    with pytest.raises(RuleViolation) as refused:
        engine.encode_enrolment(small, min_face_px=80)
    assert refused.value.rule_id == "FACE-01"
    assert refused.value.extra["reason"] == "face_too_small"
    assert refused.value.extra["face_px"] < 80


def test_an_upload_larger_than_the_working_size_is_reduced_before_detection(photo: Photo) -> None:
    full = np.asarray(Image.open(io.BytesIO(photo("obama3.jpg"))).convert("RGB"))
    assert max(full.shape[:2]) > 2000
    template = engine.encode_enrolment(full, working_long_side=1024)
    boxes = engine.locate_faces(reduce_long_side(full, 1024), detect_long_side=480, thorough=True)
    assert len(boxes) == 1 and all(0 <= v <= 1024 for v in boxes[0])
    assert template.vector.shape == (128,)


def test_a_template_survives_the_round_trip_through_bytes(obama_template: FaceTemplate) -> None:
    data = obama_template.to_bytes()
    assert len(data) == 4 + 128 * 8
    restored = FaceTemplate.from_bytes(data)
    assert restored == obama_template
    assert restored.distance_to(obama_template) == 0.0
    assert "0." not in repr(restored)  # the biometric values are never printed


def test_bytes_that_are_not_a_template_are_rejected(obama_template: FaceTemplate) -> None:
    data = obama_template.to_bytes()
    for corrupt in (data[:-8], b"XXXX" + data[4:], b""):
        with pytest.raises(ValueError):
            FaceTemplate.from_bytes(corrupt)


def test_a_burst_encoded_in_one_batch_gives_each_frame_its_own_encoding(photo: Photo, decode: Decode) -> None:
    # observe_burst encodes the whole burst in one call of the encoder (FACE-02, issue 19's speed); the
    # tolerance of docs/face-tolerance.md holds only if that gives what one frame at a time does.
    frames = [decode(photo(name)) for name in ("obama2.jpg", "biden.jpg", "obama3.jpg")]
    boxes = [engine.locate_faces(frame, detect_long_side=480, thorough=False)[0] for frame in frames]
    batched = engine.encode_faces(frames, boxes)
    for frame, box, template in zip(frames, boxes, batched, strict=True):
        assert engine.encode_face(frame, box).distance_to(template) < 1e-5
    assert batched[0].distance_to(batched[1]) > 0.6  # each frame's own face, not the first one's


def _scene(*people: tuple[Image.Image, int, float]) -> RGBImage:
    """A 960×640 camera frame with each (frame, x, scale) pasted at x: faces where and how big a test wants."""
    canvas = Image.new("RGB", (960, 640), (118, 112, 104))
    for picture, x, scale in people:
        canvas.paste(picture.resize((round(picture.width * scale), round(picture.height * scale))), (x, 0))
    return np.asarray(canvas)


@pytest.fixture(scope="module")
def scene_people(photo: Photo) -> tuple[list[Image.Image], Image.Image]:
    from tests.bursts import frame

    obama = [frame(photo("obama2.jpg"), "neutral", seed=seed) for seed in range(3)]
    # biden.jpg's face is 0.6 times obama2.jpg's at the same frame size: his head alone, made as big as obama's
    biden = ImageOps.fit(frame(photo("biden.jpg"), "neutral", seed=5), obama[0].size).crop((120, 0, 300, 180))
    return obama, biden.resize((400, 400))


def test_a_burst_scans_later_frames_whole_a_second_face_there_is_refused(
    obama_template: FaceTemplate, scene_people: tuple[list[Image.Image], Image.Image]
) -> None:
    # After the first frame a burst is scanned on a smaller copy (FaceSettings.burst_track_face_px, issue 19's
    # speed): it still covers the whole frame, so a second face of comparable size appearing later refuses
    # (FACE-02). (A face under about four fifths of the first frame's is looked for in the first frame only.)
    obama, biden = scene_people
    frames = [_scene((obama[0], 0, 1.4)), _scene((obama[1], 0, 1.4)), _scene((obama[2], 0, 1.4), (biden, 520, 1.0))]
    with pytest.raises(RuleViolation) as refused:
        engine.observe_burst(obama_template, frames)
    assert refused.value.extra["reason"] == "several_faces" and refused.value.extra["frame"] == 3


def test_a_burst_finds_the_face_again_where_it_moved_far_or_shrank(
    obama_template: FaceTemplate, scene_people: tuple[list[Image.Image], Image.Image], settings: FaceSettings
) -> None:
    obama, _ = scene_people
    first = _scene((obama[0], 0, 1.4))
    top, right, bottom, left = engine.locate_faces(first, detect_long_side=settings.detect_long_side,
                                                   thorough=False)[0]
    assert engine.tracking_long_side(first, (top, right, bottom, left), settings.detect_long_side,
                                     settings.burst_track_face_px) < settings.detect_long_side
    # moved to the other side of the frame; then half as big, below what the smaller copy finds (the burst
    # falls back to the full scan for that frame)
    frames = [first, _scene((obama[1], 490, 1.4)), _scene((obama[2], 300, 0.7))]
    observed = engine.observe_burst(obama_template, frames)
    assert all(f.distance <= settings.tolerance for f in observed.frames)
    assert observed.frames[2].eye_span < 0.7 * observed.frames[0].eye_span


def test_without_tracking_a_burst_scans_every_frame_as_a_single_probe(
    obama_template: FaceTemplate, scene_people: tuple[list[Image.Image], Image.Image], settings: FaceSettings
) -> None:
    # burst_track_face_px=0: a second face half the size of the clinician's, appearing in a later frame, refuses
    # as in a single probe; the default tracking level does not look for one that small after the first frame.
    obama, biden = scene_people
    small_second = biden.resize((200, 200))
    frames = [_scene((obama[0], 0, 1.4)), _scene((obama[1], 0, 1.4), (small_second, 600, 1.0))]
    with pytest.raises(RuleViolation) as refused:
        engine.observe_burst(obama_template, frames, track_face_px=0)
    assert refused.value.extra["reason"] == "several_faces" and refused.value.extra["frame"] == 2
    observed = engine.observe_burst(obama_template, frames, track_face_px=settings.burst_track_face_px)
    assert len(observed.frames) == 2


def test_a_burst_observed_in_two_parts_is_the_burst_observed_whole(
    obama_template: FaceTemplate, photo: Photo, decode: Decode, settings: FaceSettings
) -> None:
    # FacePool observes the halves of a burst at once when two workers are free: the second half starts with a
    # whole-frame scan, measures its change from the frame before it and numbers its refusals in the whole burst.
    from tests.bursts import burst, frame

    frames = [decode(data) for data in burst(photo("obama2.jpg"), ["turn_left", "turn_right", "closer"],
                                              per_pose=1, seed=3)]
    whole = engine.observe_burst(obama_template, frames)
    first = engine.observe_burst(obama_template, frames[:3])
    second = engine.observe_burst(obama_template, frames[3:], start=3, before=frames[2])
    assert first.changes + second.changes == whole.changes and len(whole.changes) == len(frames) - 1
    for part, one in zip(first.frames + second.frames, whole.frames, strict=True):
        assert abs(part.distance - one.distance) < 0.03 and abs(part.yaw - one.yaw) < 0.02

    biden = np.asarray(ImageOps.fit(frame(photo("biden.jpg")), (frames[0].shape[1], frames[0].shape[0])))
    stranger = engine.observe_burst(obama_template, [frames[3], biden], start=3, before=frames[2])
    assert stranger.frames[1].distance > settings.tolerance
    blank = np.asarray(Image.new("RGB", (frames[0].shape[1], frames[0].shape[0])))
    with pytest.raises(RuleViolation) as refused:
        engine.observe_burst(obama_template, [frames[3], blank], start=3, before=frames[2])
    assert refused.value.extra["reason"] == "no_face" and refused.value.extra["frame"] == 5
    with pytest.raises(RuleViolation) as resized:
        engine.observe_burst(obama_template, frames[3:5], start=3, before=reduce_long_side(frames[2], 320))
    assert resized.value.extra["reason"] == "frames_differ_in_size" and resized.value.extra["frame"] == 4


def test_later_frames_are_scanned_from_a_level_of_the_single_probes_pyramid_and_measure_as_probes(
    obama_template: FaceTemplate, photo: Photo, decode: Decode, settings: FaceSettings
) -> None:
    # The tracking copy is a level of the detector's own pyramid (480 x (5/6)^k): the levels it scans are the
    # single probe's, so a later frame's face is found there and measures as it would as a single probe
    # (docs/face-tolerance.md's distances hold) (FACE-02; issue 19's speed: about half the scan).
    from tests.bursts import burst

    frames = [decode(data) for data in burst(photo("obama2.jpg"), ["turn_left", "turn_right", "closer"],
                                              per_pose=1, seed=2, rests=False)]
    first = engine.locate_faces(frames[0], detect_long_side=settings.detect_long_side, thorough=False)[0]
    level = engine.tracking_long_side(frames[0], first, settings.detect_long_side, settings.burst_track_face_px)
    assert any(level == round(settings.detect_long_side * engine.PYRAMID_STEP ** k) for k in (1, 2, 3))
    assert all(len(engine._scan(frame, level, 0)) == 1 for frame in frames[1:])
    tracked = engine.observe_burst(obama_template, frames)
    as_probes = engine.observe_burst(obama_template, frames, track_face_px=0)
    for one, other in zip(tracked.frames, as_probes.frames, strict=True):
        assert abs(one.distance - other.distance) < 0.03


def test_the_pages_burst_shows_its_moves_whatever_box_the_detector_gives(
    obama_template: FaceTemplate, photo: Photo, decode: Decode, settings: FaceSettings
) -> None:
    # One frame per move (static/js/liveness.js): each move is read from one frame, so its pose must not move
    # with the detector's box. The 68 landmarks start from the first frame's box carried by the 5-point
    # landmarks (engine.carried_box): over these 20 synthetic bursts every turn measures at least 1.2 times the
    # threshold; started from each frame's own HOG box, seed 15's turn_right measured -0.042 (threshold 0.05)
    # and failed the challenge.
    from hospital.biometrics import rules
    from tests.bursts import burst

    steps = ["turn_left", "turn_right", "closer"]
    for seed in range(1, 21):
        frames = [decode(data) for data in burst(photo("obama2.jpg"), steps, per_pose=1, seed=seed, rests=False)]
        observed = engine.observe_burst(obama_template, frames)
        verdict = rules.judge_liveness(steps, observed, tolerance=settings.tolerance,
                                       replay_distance=settings.replay_distance, turn_yaw=settings.turn_yaw,
                                       closer_ratio=settings.closer_ratio, min_frame_change=settings.min_frame_change)
        assert verdict.passed, (seed, verdict)
        left, right = (frame.yaw - observed.frames[0].yaw for frame in observed.frames[1:3])
        assert left >= 1.2 * settings.turn_yaw and right <= -1.2 * settings.turn_yaw, (seed, left, right)
