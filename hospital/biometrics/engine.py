"""Face enrolment and verification on dlib, for one RGB frame at a time, and the observations of a burst.

Costs follow PERFORMANCE.md "Face verification": the frame is first reduced to a working size, the HOG
detector scans a smaller copy of it, and the 128-d encoding is computed from the working frame with the
detected box scaled back up. The calls are face_recognition's (same models, same arguments: the distances of
docs/face-tolerance.md hold), made on dlib directly so that only the models used are loaded, each on first
use: the HOG detector, the 5-point landmarks and the ResNet encoder for verification, the 68-point landmarks
only for a liveness burst. face_recognition's import would also load its CNN detector (never used here).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hospital.biometrics.images import RGBImage, reduce_long_side
from hospital.biometrics.settings import DEFAULT_FACE_SETTINGS as _DEFAULTS
from hospital.biometrics.values import (
    BurstObservation,
    FaceTemplate,
    FrameObservation,
    Verification,
    VerificationReason,
)
from hospital.core.errors import RuleViolation

__all__ = ["FaceBox", "FramePose", "carried_box", "encode_enrolment", "encode_face", "encode_faces", "frame_pose",
           "locate_faces", "observe_burst", "tracking_long_side", "verify", "warm_up"]

FaceBox = tuple[int, int, int, int]
"""(top, right, bottom, left) in pixels of the working frame, face_recognition's order."""


@functools.cache
def _dlib() -> Any:
    import dlib

    return dlib


@functools.cache
def _model_path(name: str) -> str:
    import warnings

    with warnings.catch_warnings():
        # face_recognition_models still imports pkg_resources, which warns on import.
        warnings.simplefilter("ignore", UserWarning)
        import face_recognition_models

    return str(getattr(face_recognition_models, name)())


@functools.cache
def _detector() -> Any:
    return _dlib().get_frontal_face_detector()


@functools.cache
def _landmarks_5() -> Any:
    return _dlib().shape_predictor(_model_path("pose_predictor_five_point_model_location"))


@functools.cache
def _landmarks_68() -> Any:
    return _dlib().shape_predictor(_model_path("pose_predictor_model_location"))


@functools.cache
def _encoder() -> Any:
    return _dlib().face_recognition_model_v1(_model_path("face_recognition_model_location"))


def _hog(image: RGBImage, upsample: int) -> list[FaceBox]:
    height, width = image.shape[:2]
    return [(max(r.top(), 0), min(r.right(), width), min(r.bottom(), height), max(r.left(), 0))
            for r in _detector()(image, upsample)]


def _rect(box: FaceBox) -> Any:
    top, right, bottom, left = box
    return _dlib().rectangle(left, top, right, bottom)


def _scan(frame: RGBImage, long_side: int, upsample: int) -> list[FaceBox]:
    """The faces HOG finds on a copy of `frame` reduced to `long_side`, in `frame`'s pixels."""
    small = reduce_long_side(frame, long_side)
    height, width = frame.shape[:2]
    y_scale, x_scale = height / small.shape[0], width / small.shape[1]
    return [
        (
            max(0, round(top * y_scale)),
            min(width, round(right * x_scale)),
            min(height, round(bottom * y_scale)),
            max(0, round(left * x_scale)),
        )
        for top, right, bottom, left in _hog(small, upsample)
    ]


def locate_faces(frame: RGBImage, *, detect_long_side: int, thorough: bool) -> list[FaceBox]:
    """The faces HOG finds on a copy of `frame` reduced to `detect_long_side`, in `frame`'s pixels.

    The quick pass (no upsampling) finds faces of about 80 px in the copy, which a webcam face is. It falls
    back to one upsampling, which finds faces half that size at four times the cost, only when it found
    nothing; `thorough` goes straight to the upsampled pass (enrolment, where a second face must be seen).
    """
    boxes: list[FaceBox] = []
    if not thorough:
        boxes = _scan(frame, detect_long_side, 0)
    if not boxes:
        boxes = _scan(frame, detect_long_side, 1)
    return boxes


PYRAMID_STEP = 5 / 6
"""dlib's HOG detector scans an image pyramid, each level 5/6 of the one before (pyramid_down<6>)."""


def tracking_long_side(frame: RGBImage, box: FaceBox, detect_long_side: int, track_face_px: int) -> int:
    """The long side of the copy a burst's later frames are scanned on: a level of the single probe's own HOG
    pyramid (`detect_long_side` times 5/6, 5/6 squared ...), the smallest where the first frame's face (`box`)
    still measures `track_face_px` or more (0 turns tracking off: `detect_long_side`).

    The detector scans that copy and every smaller level as it scans them for a single probe, and skips the larger
    ones, which hold most of the pixels: a face is found anywhere in the frame, at about half the cost, mostly with
    the single probe's box to a pixel or two (where the probe's best detection lies on a skipped level the box
    differs, and the encoding still measures within 0.03 of the probe's: test_face_engine.py), and a second face
    from about 80/`track_face_px` of the first one's size (HOG finds faces from about 80 px) (FACE-02, issue 19's
    speed).
    """
    if track_face_px <= 0:
        return detect_long_side
    top, right, bottom, left = box
    face_px = min(bottom - top, right - left) * min(1.0, detect_long_side / max(frame.shape[:2]))
    long_side = detect_long_side
    while face_px * PYRAMID_STEP >= track_face_px:
        face_px *= PYRAMID_STEP
        long_side = round(long_side * PYRAMID_STEP)
    return long_side


def warm_up(*, liveness: bool = False) -> None:
    """Load and run the detector, the landmark model(s) and the encoder once, so the first real call is not slower."""
    blank = np.zeros((160, 160, 3), dtype=np.uint8)
    _hog(blank, 0)
    encode_face(blank, (5, 155, 155, 5))
    if liveness:
        _landmarks_68()(blank, _rect((5, 155, 155, 5)))


def encode_face(frame: RGBImage, box: FaceBox) -> FaceTemplate:
    """The 128-d encoding of the face in `box` (5-point landmarks, one jitter: the measured setting)."""
    shape = _landmarks_5()(frame, _rect(box))
    return FaceTemplate(np.array(_encoder().compute_face_descriptor(frame, shape, 1)))


def encode_faces(frames: list[RGBImage], boxes: list[FaceBox]) -> list[FaceTemplate]:
    """`encode_face` for one face per frame, in one call of the encoder: the same descriptors, but the network
    runs on the whole batch at once, which a BLAS build does markedly faster than frame by frame."""
    return _encode_shapes(frames, [_landmarks_5()(frame, _rect(box)) for frame, box in zip(frames, boxes, strict=True)])


def _encode_shapes(frames: list[RGBImage], shapes: list[Any]) -> list[FaceTemplate]:
    """The encodings of faces given by their 5-point landmarks, one per frame, in one batch."""
    dlib = _dlib()
    batch = [dlib.full_object_detections([shape]) for shape in shapes]
    return [FaceTemplate(np.array(per_frame[0])) for per_frame in _encoder().compute_face_descriptor(frames, batch, 1)]


def _points(shape: Any) -> npt.NDArray[np.float64]:
    return np.array([(shape.part(i).x, shape.part(i).y) for i in range(shape.num_parts)], dtype=np.float64)


def carried_box(box: FaceBox, points_from: npt.NDArray[np.float64], points_to: npt.NDArray[np.float64]) -> FaceBox:
    """`box` moved, scaled and turned as the landmarks `points_from` became `points_to` (the least-squares
    similarity between them), kept upright: where the same face's box lies in another frame, independent of the
    detector's box there.

    The 68 landmarks a pose is read from start from the box they are given; HOG boxes of the same face differ from
    one scan scale to another, which moved the measured yaw by 0.02 to 0.07 (the turn threshold is 0.05). Boxes
    carried from the burst's first frame by the 5-point landmarks (robust to the box) keep the start the same
    relative to the face, so the yaw changes with the face, not with the detector (FACE-02).
    """
    centre_from, centre_to = points_from.mean(axis=0), points_to.mean(axis=0)
    from_z = (points_from - centre_from) @ np.array([1, 1j])
    to_z = (points_to - centre_to) @ np.array([1, 1j])
    similarity = complex(np.vdot(from_z, to_z) / max(float(np.vdot(from_z, from_z).real), 1e-9))
    top, right, bottom, left = box
    middle = complex((left + right) / 2 - centre_from[0], (top + bottom) / 2 - centre_from[1]) * similarity
    half_width, half_height = (right - left) / 2 * abs(similarity), (bottom - top) / 2 * abs(similarity)
    x, y = middle.real + centre_to[0], middle.imag + centre_to[1]
    return round(y - half_height), round(x + half_width), round(y + half_height), round(x - half_width)


@dataclass(frozen=True, slots=True)
class FramePose:
    """Where the face in a frame looks and how big it is, from dlib's 68 landmarks (liveness, FACE-02).

    yaw: (|nose tip − jaw end on the image's left| − |nose tip − jaw end on the image's right|) / their sum:
        0 facing the camera; it grows as the person turns to their own left (in an unmirrored camera image the
        nose moves towards the image's right), and falls as they turn to their right.
    eye_span: distance between the eye centres over the frame's width; grows as the face comes closer.
    """

    yaw: float
    eye_span: float


def frame_pose(frame: RGBImage, box: FaceBox) -> FramePose:
    shape = _landmarks_68()(frame, _rect(box))
    points = np.array([(shape.part(i).x, shape.part(i).y) for i in range(68)], dtype=np.float64)
    nose, jaw_left, jaw_right = points[30], points[0], points[16]
    to_left, to_right = float(np.linalg.norm(nose - jaw_left)), float(np.linalg.norm(nose - jaw_right))
    yaw = (to_left - to_right) / max(to_left + to_right, 1e-9)
    eye_left, eye_right = points[36:42].mean(axis=0), points[42:48].mean(axis=0)
    return FramePose(yaw=yaw, eye_span=float(np.linalg.norm(eye_left - eye_right)) / frame.shape[1])


def _only_face(boxes: list[FaceBox], rule_id: str, photo: str) -> FaceBox:
    if not boxes:
        raise RuleViolation(
            rule_id,
            f"No face was found in the {photo}. "
            "Face the camera in good light, with nothing covering the face.",
            reason="no_face",
        )
    if len(boxes) > 1:
        raise RuleViolation(
            rule_id,
            f"{len(boxes)} faces were found in the {photo}; it must show one person only.",
            reason="several_faces",
            faces=len(boxes),
        )
    return boxes[0]


def encode_enrolment(
    rgb: RGBImage,
    *,
    min_face_px: int = _DEFAULTS.min_face_px,
    detect_long_side: int = _DEFAULTS.detect_long_side,
    working_long_side: int = _DEFAULTS.working_long_side,
) -> FaceTemplate:
    """The template of the one face in an enrolment photo (FACE-01).

    Raises RuleViolation("FACE-01", reason="no_face" | "several_faces" | "face_too_small").
    """
    frame = reduce_long_side(rgb, working_long_side)
    box = _only_face(
        locate_faces(frame, detect_long_side=detect_long_side, thorough=True), "FACE-01", "enrolment photo"
    )
    top, right, bottom, left = box
    face_px = min(bottom - top, right - left)
    if face_px < min_face_px:
        # A small face gives a blurry 150×150 chip and a template every later probe measures against.
        raise RuleViolation(
            "FACE-01",
            f"The face is {face_px} px across; an enrolment photo needs at least {min_face_px} px. "
            "Move closer to the camera or use a larger photo.",
            reason="face_too_small",
            face_px=face_px,
            min_face_px=min_face_px,
        )
    return encode_face(frame, box)


def verify(
    template: FaceTemplate,
    probe_rgb: RGBImage,
    *,
    tolerance: float = _DEFAULTS.tolerance,
    replay_distance: float = _DEFAULTS.replay_distance,
    detect_long_side: int = _DEFAULTS.detect_long_side,
    working_long_side: int = _DEFAULTS.working_long_side,
) -> Verification:
    """Compare the one face in `probe_rgb` with an enrolment (FACE-02).

    A match lies between `replay_distance` and `tolerance`, both inclusive of the match side. Closer than
    `replay_distance` is the enrolment photo itself shown again (a resized copy measures about 0.06), and
    is refused. Raises RuleViolation("FACE-02", reason="no_face" | "several_faces").
    """
    frame = reduce_long_side(probe_rgb, working_long_side)
    box = _only_face(
        locate_faces(frame, detect_long_side=detect_long_side, thorough=False), "FACE-02", "probe image"
    )
    distance = template.distance_to(encode_face(frame, box))
    if distance < replay_distance:
        reason = VerificationReason.REPLAY
    elif distance <= tolerance:
        reason = VerificationReason.MATCH
    else:
        reason = VerificationReason.MISMATCH
    return Verification(
        match=reason is VerificationReason.MATCH, distance=distance, tolerance=tolerance, reason=reason
    )


def observe_burst(
    template: FaceTemplate,
    frames: list[RGBImage],
    *,
    detect_long_side: int = _DEFAULTS.detect_long_side,
    working_long_side: int = _DEFAULTS.working_long_side,
    track_face_px: int = _DEFAULTS.burst_track_face_px,
    start: int = 0,
    before: RGBImage | None = None,
) -> BurstObservation:
    """Each frame's distance to `template` and its pose, and how much consecutive frames differ (FACE-02).

    Every frame is searched whole and encoded: a face that moved anywhere is found, another person in any frame
    is measured. Only the scale differs: the first frame as a single probe, the later ones from the pyramid level
    of `tracking_long_side` (as a single probe where that finds no face), so a second face there is seen when it is
    at least about 80/`track_face_px` of the first frame's face (a smaller one in the first frame only).
    The pose is read from 68 landmarks started from the first frame's box carried to each frame by its 5-point
    landmarks (`carried_box`), the encoding from the 5-point landmarks of the frame's own box.
    `start`, `before`: these frames follow `start` others of the same burst, the last of them `before` (its
    change to the first of these is measured; refusals number the frames in the whole burst): a burst observed
    in parts (FacePool).
    Raises RuleViolation("FACE-02", reason="no_face" | "several_faces" | "frames_differ_in_size", frame=n).
    """
    working: list[RGBImage] = []
    shapes: list[Any] = []
    poses: list[FramePose] = []
    track_long_side: int | None = None
    anchor: tuple[FaceBox, npt.NDArray[np.float64]] | None = None  # the first frame's box and 5 landmarks
    for index, rgb in enumerate(frames, start=start + 1):
        frame = reduce_long_side(rgb, working_long_side)
        # The first frame is scanned as a single probe is; the later ones from the tracking level, and as a single
        # probe only where that finds no face (it shrank or turned away more than the level allows).
        found = [] if track_long_side in (None, detect_long_side) else _scan(frame, track_long_side, 0)
        if not found:
            found = locate_faces(frame, detect_long_side=detect_long_side, thorough=False)
        try:
            box = _only_face(found, "FACE-02", f"frame {index} of the burst")
        except RuleViolation as refused:
            refused.extra["frame"] = index
            raise
        shape = _landmarks_5()(frame, _rect(box))
        points = _points(shape)
        if anchor is None:
            anchor = (box, points)
            track_long_side = tracking_long_side(frame, box, detect_long_side, track_face_px)
        working.append(frame)
        shapes.append(shape)
        poses.append(frame_pose(frame, carried_box(anchor[0], anchor[1], points)))
    changes: list[float] = []
    compared = ([reduce_long_side(before, working_long_side)] if before is not None else []) + working
    first_number = start if before is not None else start + 1
    greys = [_grey_sum(frame) for frame in compared]
    for number, (earlier, later) in enumerate(itertools.pairwise(greys), start=first_number):
        if earlier.shape != later.shape:
            raise RuleViolation("FACE-02", f"frames {number} and {number + 1} differ in size: one camera's burst "
                                "has one size", reason="frames_differ_in_size", frame=number + 1)
        changes.append(float(np.abs(earlier - later).mean(dtype=np.float64)) / 3)
    # Every frame is encoded and compared (another person in any frame refuses), all in one batch.
    templates = _encode_shapes(working, shapes)
    return BurstObservation(
        tuple(FrameObservation(template.distance_to(probe), pose.yaw, pose.eye_span)
              for probe, pose in zip(templates, poses, strict=True)),
        tuple(changes),
    )


def _grey_sum(frame: RGBImage) -> npt.NDArray[np.int16]:
    """Three times each pixel's mean grey level, in integers: a third of the mean absolute difference of two
    such sums is the mean grey-level change (FACE-02's `min_frame_change`), about ten times cheaper to get than
    from float grey images."""
    return frame[..., 0].astype(np.int16) + frame[..., 1] + frame[..., 2]
