"""Events of the video area (FACE-02): the face watch paused a call; the doctor verified again and resumed it."""

from __future__ import annotations

from hospital.contracts.base import AwareDatetime, Payload

__all__ = ["EVENTS", "VideoPaused", "VideoResumed"]


class VideoPaused(Payload, kw_only=True):
    """`video.paused` (subject: the visit)."""

    visit_id: str
    doctor_user_id: str
    paused_at: AwareDatetime
    reason: str | None = None  # face_mismatch, no_face …
    for_s: float | None = None  # how long the face was lost before the pause


class VideoResumed(Payload, kw_only=True):
    """`video.resumed` (subject: the visit), on the practice session of a fresh verification."""

    visit_id: str
    doctor_user_id: str
    resumed_at: AwareDatetime
    practice_session_id: str | None = None
    face_verified_at: AwareDatetime | None = None


EVENTS: dict[str, type[Payload]] = {"video.paused": VideoPaused, "video.resumed": VideoResumed}
