"""The face engine's values: the enrolment template and the outcome of one verification.

They import neither dlib nor face_recognition, so the app process can hold and store them while the
computing happens in the pool's workers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["BurstObservation", "FaceTemplate", "FrameObservation", "LivenessVerdict", "Verification",
           "VerificationReason"]

_MAGIC = b"FT1\x00"  # format v1: dlib_face_recognition_resnet_model_v1, 128 little-endian float64
_DIMENSIONS = 128
_BYTES = len(_MAGIC) + _DIMENSIONS * 8


class FaceTemplate:
    """A face's 128-d encoding. Sensitive personal information (FACE-01): stored encrypted, never served."""

    __slots__ = ("_vector",)

    def __init__(self, vector: npt.ArrayLike) -> None:
        array = np.array(vector, dtype=np.float64).reshape(-1)
        if array.shape != (_DIMENSIONS,) or not np.all(np.isfinite(array)):
            raise ValueError(f"a face template is {_DIMENSIONS} finite numbers")
        array.flags.writeable = False
        self._vector = array

    @property
    def vector(self) -> npt.NDArray[np.float64]:
        """The encoding, read-only."""
        return self._vector

    def distance_to(self, other: FaceTemplate) -> float:
        """Euclidean distance, the measure face_recognition's tolerance is expressed in."""
        return float(np.linalg.norm(self._vector - other._vector))

    def to_bytes(self) -> bytes:
        """A versioned 1,028-byte form for encrypted storage."""
        return _MAGIC + self._vector.astype("<f8").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> FaceTemplate:
        """The template `to_bytes` wrote; ValueError for anything else."""
        if len(data) != _BYTES or not data.startswith(_MAGIC):
            raise ValueError("not a v1 face template")
        return cls(np.frombuffer(data, dtype="<f8", offset=len(_MAGIC)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FaceTemplate):
            return NotImplemented
        return bool(np.array_equal(self._vector, other._vector))

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        # Never print the biometric values themselves, not even into logs.
        return "FaceTemplate(<128 values>)"

    def __reduce__(self) -> tuple[type[FaceTemplate], tuple[npt.NDArray[np.float64]]]:
        return (FaceTemplate, (self._vector.copy(),))


class VerificationReason(enum.StrEnum):
    """Why a verification passed or failed; recorded with every attempt (FACE-04)."""

    MATCH = "match"
    MISMATCH = "mismatch"  # farther from the enrolment than the tolerance
    REPLAY = "replay"  # so close that it is the enrolment photo itself, not a live face


@dataclass(frozen=True, slots=True)
class Verification:
    """One probe compared with one enrolment. `match` is the decision; the rest is for the audit."""

    match: bool
    distance: float
    tolerance: float
    reason: VerificationReason


@dataclass(frozen=True, slots=True)
class FrameObservation:
    """One frame of a liveness burst: its distance to the enrolment and where the face looks (engine.FramePose)."""

    distance: float
    yaw: float
    eye_span: float


@dataclass(frozen=True, slots=True)
class BurstObservation:
    """What the engine saw in a burst, in order; `changes[i]` is the mean absolute grey-level difference between
    frames i and i + 1 (0 for the same picture sent twice)."""

    frames: tuple[FrameObservation, ...]
    changes: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class LivenessVerdict:
    """The decision on a burst (FACE-02): `reason` is "match" when it passed, else why not; `performed` the moves
    the landmarks showed, in order."""

    passed: bool
    reason: str
    performed: tuple[str, ...]
    worst_distance: float | None
    detail: str
