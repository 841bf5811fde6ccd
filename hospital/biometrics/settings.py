"""The face engine's settings, with the defaults measured in docs/face-tolerance.md."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["DEFAULT_FACE_SETTINGS", "FaceSettings", "default_workers"]


def default_workers() -> int:
    """One worker process per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class FaceSettings:
    """How strictly faces are compared and how much work an upload may cost.

    tolerance: largest distance to the enrolment that still matches; stricter than the library's 0.6.
    replay_distance: a probe closer than this is the enrolment photo itself replayed, not a live face.
    duplicate_distance: a new enrolment this close to another clinician's is the same face (FACE-01); wider
        than `tolerance` so a face that verifies as one clinician is never enrolled as another.
    min_face_px: short side of the face box, in the working frame, an enrolment photo must reach.
    max_upload_bytes: uploads over this are refused before any decoding.
    detect_long_side: long side of the downscaled copy the HOG detector scans.
    working_long_side: uploads are reduced to this long side before anything else.
    workers: worker processes of the `FacePool`; 0 runs in the caller's process (CLI, tests).
    challenge_steps: how many moves a liveness challenge demands (distinct, in random order).
    challenge_seconds: how long a challenge may be answered after it is issued.
    burst_min_frames / burst_max_frames: the frames a burst may carry.
    turn_yaw: the change of landmark yaw from the burst's first frame that counts as a head turn.
    closer_ratio: the growth of the eye span over the first frame's that counts as coming closer.
    min_frame_change: consecutive frames must differ by at least this mean grey level (a camera's noise does;
        the same picture sent again does not).
    burst_track_face_px: a burst's later frames are scanned whole from the level of the single probe's HOG pyramid
        where the first frame's face is still about this big (HOG finds faces from about 80 px): about half the
        cost, the same boxes, but a second face there is seen only when about 80/this of the first one's size or
        bigger (engine.tracking_long_side). 0 scans every frame as a single probe (smaller second faces).
    max_pixels: decoded-size limit, the guard against decompression bombs.
    """

    tolerance: float = 0.5
    replay_distance: float = 0.2
    duplicate_distance: float = 0.6
    min_face_px: int = 80
    max_upload_bytes: int = 8 * 1024 * 1024
    detect_long_side: int = 480
    working_long_side: int = 1024
    workers: int = field(default_factory=default_workers)
    max_pixels: int = 40_000_000
    challenge_steps: int = 3
    challenge_seconds: int = 30
    burst_min_frames: int = 4
    burst_max_frames: int = 16
    turn_yaw: float = 0.05
    closer_ratio: float = 1.15
    min_frame_change: float = 0.3
    burst_track_face_px: int = 85

    def __post_init__(self) -> None:
        if not 0.0 <= self.replay_distance < self.tolerance:
            raise ValueError("replay_distance must be at least 0 and below tolerance")
        if self.duplicate_distance < self.tolerance:
            raise ValueError("duplicate_distance must not be below tolerance")
        if self.workers < 0:
            raise ValueError("workers must be 0 (in-process) or more")
        if min(self.min_face_px, self.max_upload_bytes, self.detect_long_side, self.max_pixels) <= 0:
            raise ValueError("sizes and limits must be positive")
        if self.burst_track_face_px < 0:
            raise ValueError("burst_track_face_px must be 0 (off) or more")
        if self.detect_long_side > self.working_long_side:
            raise ValueError("detect_long_side must not exceed working_long_side")


DEFAULT_FACE_SETTINGS = FaceSettings(workers=0)
