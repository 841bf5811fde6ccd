"""Face enrolment and verification on face_recognition (dlib), for one RGB frame at a time.

Costs follow PERFORMANCE.md "Face verification": the frame is first reduced to a working size, the HOG
detector scans a smaller copy of it, and the 128-d encoding is computed from the working frame with the
detected box scaled back up. Importing this module loads dlib's models (about 2 s); the app process leaves
that to the pool's workers.
"""

from __future__ import annotations

import warnings

import numpy as np

from hospital.biometrics.images import RGBImage, reduce_long_side
from hospital.biometrics.settings import DEFAULT_FACE_SETTINGS as _DEFAULTS
from hospital.biometrics.values import FaceTemplate, Verification, VerificationReason
from hospital.core.errors import RuleViolation

with warnings.catch_warnings():
    # face_recognition_models still imports pkg_resources, which warns on import.
    warnings.simplefilter("ignore", UserWarning)
    import face_recognition

__all__ = ["FaceBox", "encode_enrolment", "encode_face", "locate_faces", "verify", "warm_up"]

FaceBox = tuple[int, int, int, int]
"""(top, right, bottom, left) in pixels of the working frame, face_recognition's order."""


def locate_faces(frame: RGBImage, *, detect_long_side: int, thorough: bool) -> list[FaceBox]:
    """The faces HOG finds on a copy of `frame` reduced to `detect_long_side`, in `frame`'s pixels.

    The quick pass (no upsampling) finds faces of about 80 px in the copy, which a webcam face is. It falls
    back to one upsampling, which finds faces half that size at four times the cost, only when it found
    nothing; `thorough` goes straight to the upsampled pass (enrolment, where a second face must be seen).
    """
    small = reduce_long_side(frame, detect_long_side)
    boxes: list[FaceBox] = []
    if not thorough:
        boxes = face_recognition.face_locations(small, number_of_times_to_upsample=0)
    if not boxes:
        boxes = face_recognition.face_locations(small, number_of_times_to_upsample=1)
    height, width = frame.shape[:2]
    y_scale, x_scale = height / small.shape[0], width / small.shape[1]
    return [
        (
            max(0, round(top * y_scale)),
            min(width, round(right * x_scale)),
            min(height, round(bottom * y_scale)),
            max(0, round(left * x_scale)),
        )
        for top, right, bottom, left in boxes
    ]


def warm_up() -> None:
    """Run the detector, the landmark model and the encoder once, so the first real call is not slower."""
    blank = np.zeros((160, 160, 3), dtype=np.uint8)
    face_recognition.face_locations(blank, number_of_times_to_upsample=0)
    encode_face(blank, (5, 155, 155, 5))


def encode_face(frame: RGBImage, box: FaceBox) -> FaceTemplate:
    """The 128-d encoding of the face in `box` (5-point landmarks, one jitter: the measured setting)."""
    (vector,) = face_recognition.face_encodings(
        frame, known_face_locations=[box], num_jitters=1, model="small"
    )
    return FaceTemplate(vector)


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
