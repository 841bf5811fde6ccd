"""The jobs a `FacePool` runs, in a worker process or (workers=0) in the caller's own.

This module imports nothing heavy at the top: a spawned worker imports it before its initializer runs, and
the initializer must set the BLAS thread count before dlib (and the BLAS it may link) is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from hospital.core.errors import HospitalError, RuleViolation

if TYPE_CHECKING:
    from hospital.biometrics.images import RGBImage
    from hospital.biometrics.settings import FaceSettings
    from hospital.biometrics.values import BurstObservation, FaceTemplate, Verification

__all__ = [
    "RemoteError",
    "capture",
    "encode_enrolment_job",
    "init_worker",
    "observe_burst_job",
    "ping",
    "verify_frame_job",
    "verify_job",
]

T = TypeVar("T")

# One BLAS thread per worker; the pool scales with processes (PERFORMANCE.md).
_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def init_worker() -> None:
    """Worker initializer: pin BLAS to one thread, then load and exercise dlib's models."""
    for name in _ONE_THREAD:
        os.environ[name] = "1"
    from hospital.biometrics import engine

    engine.warm_up()


def ping() -> int:
    """A no-op job that proves a worker is up; its process id."""
    return os.getpid()


@dataclass(frozen=True, slots=True)
class RemoteError:
    """A HospitalError raised in a worker, carried back as data.

    The hierarchy's constructors take keyword details, which the default exception pickling loses, so the
    worker sends the parts and the pool raises the same error again in the caller's process.
    """

    error_type: type[HospitalError]
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)
    rule_id: str | None = None

    @classmethod
    def of(cls, exc: HospitalError) -> RemoteError:
        return cls(type(exc), exc.detail, dict(exc.extra), getattr(exc, "rule_id", None))

    def rebuild(self) -> HospitalError:
        if issubclass(self.error_type, RuleViolation):
            return self.error_type(self.rule_id or "", self.detail, **self.extra)
        if self.rule_id is not None:
            return self.error_type(self.detail, rule_id=self.rule_id, **self.extra)
        return self.error_type(self.detail, **self.extra)


def capture(job: Callable[..., T], *args: Any) -> T | RemoteError:
    """Run `job` in a worker, turning a HospitalError into a RemoteError the caller can raise again."""
    try:
        return job(*args)
    except HospitalError as exc:
        return RemoteError.of(exc)


def _decode(image_bytes: bytes, content_type: str | None, settings: FaceSettings) -> RGBImage:
    from hospital.biometrics.images import decode_rgb

    return decode_rgb(
        image_bytes,
        content_type,
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_pixels,
        long_side=settings.working_long_side,
    )


def encode_enrolment_job(
    image_bytes: bytes, content_type: str | None, settings: FaceSettings
) -> FaceTemplate:
    """Decode an enrolment photo and return its template (FACE-01)."""
    from hospital.biometrics import engine

    return engine.encode_enrolment(
        _decode(image_bytes, content_type, settings),
        min_face_px=settings.min_face_px,
        detect_long_side=settings.detect_long_side,
        working_long_side=settings.working_long_side,
    )


def verify_frame_job(template: FaceTemplate, rgb: RGBImage, settings: FaceSettings) -> Verification:
    """Verify an already decoded RGB frame against a template (FACE-02)."""
    from hospital.biometrics import engine

    return engine.verify(
        template,
        rgb,
        tolerance=settings.tolerance,
        replay_distance=settings.replay_distance,
        detect_long_side=settings.detect_long_side,
        working_long_side=settings.working_long_side,
    )


def verify_job(
    template: FaceTemplate, probe_bytes: bytes, content_type: str | None, settings: FaceSettings
) -> Verification:
    """Decode a probe image and verify it against a template (FACE-02)."""
    return verify_frame_job(template, _decode(probe_bytes, content_type, settings), settings)


def observe_burst_job(
    template: FaceTemplate, frames: list[tuple[bytes, str | None]], settings: FaceSettings, start: int = 0,
    before: tuple[bytes, str | None] | None = None,
) -> BurstObservation:
    """Decode a liveness burst's frames and observe them against a template (FACE-02); `start` and `before`
    (the frame before these, decoded only for the change to the first of them) for a part of a burst."""
    from hospital.biometrics import engine

    return engine.observe_burst(
        template,
        [_decode(data, content_type, settings) for data, content_type in frames],
        detect_long_side=settings.detect_long_side,
        working_long_side=settings.working_long_side,
        track_face_px=settings.burst_track_face_px,
        start=start,
        before=_decode(*before, settings) if before is not None else None,
    )
