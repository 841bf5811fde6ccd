"""What the video package exchanges with the code that wires it: roles, events, callbacks, settings.

The lead's signalling, audit, blob store and face pool stay outside this package; they come in as the
callables named here (no database, no HTTP inside `hospital.video`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "ROLES",
    "CheckFace",
    "EventKind",
    "FaceCheck",
    "OnEvent",
    "RGBArray",
    "Role",
    "StoreRecording",
    "VideoSettings",
    "other_role",
]

Role = Literal["patient", "doctor"]
ROLES: tuple[Role, Role] = ("patient", "doctor")

EventKind = Literal["joined", "left", "paused", "resumed", "face_check", "recording_finished", "stalled", "flowing"]

RGBArray = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class FaceCheck:
    """One live check of the doctor's face: was a face seen, was it the enrolled doctor, at what distance."""

    present: bool
    match: bool
    distance: float | None = None

    @property
    def ok(self) -> bool:
        return self.present and self.match


# on_event(visit_id, kind, data): the lead audits, reports and tells both browsers (FACE-04, AUD-01).
OnEvent = Callable[[str, str, dict[str, Any]], Awaitable[None]]
# store_recording(visit_id, role, path, duration_s): the blob store hashes (SHA-256), keeps 3 years (REC-02).
# It may be sync or async; after it returns the hub deletes `path` if it still exists.
StoreRecording = Callable[[str, Role, Path, float], Awaitable[None] | None]
# check_face(rgb): compares one H×W×3 RGB frame with the enrolled template, off the event loop (FACE-02).
CheckFace = Callable[[RGBArray], Awaitable[FaceCheck]]


@dataclass(frozen=True, slots=True)
class VideoSettings:
    """Tunables of the media peer; defaults follow the issue (sample every 3 s, 10 s grace)."""

    sample_interval_s: float = 3.0
    grace_s: float = 10.0
    # A sampled picture older than this counts as "no video" (camera off or stream stalled).
    max_frame_age_s: float = 2.0
    # A face check that takes longer than this is recorded as failed and neither clears nor extends a breach.
    check_timeout_s: float = 10.0
    record: bool = True
    face_watch: bool = True
    recording_dir: Path | None = None
    # Keyframe requests (PLI) forwarded upstream at most this often per stream.
    keyframe_request_interval_s: float = 0.5
    # Frames queued towards one browser before the forwarder drops and waits for a keyframe.
    forward_queue_frames: int = 60
    # A participant whose connection failed or closed (a dropped network) may rejoin this long and carry on in the
    # same recording, the time away marked as a gap; after it the recording is finished and handed over.
    rejoin_window_s: float = 60.0
    # Nothing received from a connected participant for this long: `stalled` (their network is in trouble), and
    # `flowing` when their media arrives again. The other side's page says so.
    stall_s: float = 3.0


def other_role(role: Role) -> Role:
    return "doctor" if role == "patient" else "patient"
