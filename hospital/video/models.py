"""What the video consultation leaves in the database: the face-watch series and the recordings.

The media library itself (`hub`, `room` …) has no tables; the service writes these from its callbacks.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hospital.core.types import Record, UTCDateTime, utcnow

__all__ = ["CallPlacement", "MediaWorker", "VideoFaceCheck", "VisitRecording"]


class VideoFaceCheck(SQLModel, table=True):
    """One sample of the live face watch over the doctor's video (FACE-02); every sample is kept.

    A plain integer key: the series grows by one row every few seconds of every video visit.
    """

    __tablename__ = "video_face_check"
    __table_args__ = (sa.Index("ix_video_face_check_visit_at", "visit_id", "at"),)

    seq: int | None = Field(default=None, primary_key=True)
    visit_id: uuid.UUID = Field(foreign_key="visit.id")
    doctor_user_id: uuid.UUID = Field(foreign_key="user_account.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    at_s: float  # seconds since the watch began (the media peer's clock)
    status: str  # ok | face_missing | face_mismatch | no_video | check_failed
    present: bool
    match: bool
    distance: float | None = None


class VisitRecording(Record, table=True):
    """One participant's recording of a video visit, in the blob store for at least 3 years (REC-02)."""

    __tablename__ = "visit_recording"

    visit_id: uuid.UUID = Field(foreign_key="visit.id", index=True)
    participant_role: str  # patient | doctor
    recording_sha256: str = Field(foreign_key="blob.sha256")  # names the blob, so retention holds it
    size: int = Field(sa_type=sa.BigInteger)
    content_type: str = "video/x-matroska"
    duration_s: float
    purge_not_before: date = Field(index=True)


class MediaWorker(SQLModel, table=True):
    """A `hospital media-worker` process: where the app reaches it, how many calls it takes, and its lease.

    The worker renews `lease_until` every heartbeat; one whose lease has lapsed is dead to placement (its calls'
    media are lost, their state is not: the next join places the call on a live worker)."""

    __tablename__ = "media_worker"

    id: str = Field(primary_key=True)
    url: str  # the internal API (HTTP and WebSocket), signed with HOSPITAL_MEDIA_SECRET
    capacity: int
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime = Field(sa_type=UTCDateTime, index=True)


class CallPlacement(SQLModel, table=True):
    """Which worker holds a visit's call. Valid while that worker's lease runs: the placement's lease is its
    worker's (one renewal per worker, not one per call)."""

    __tablename__ = "call_placement"

    visit_id: uuid.UUID = Field(foreign_key="visit.id", primary_key=True)
    worker_id: str = Field(index=True)
    placed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    placements: int = 1  # how many times the call was placed: more than one, a worker died under it
