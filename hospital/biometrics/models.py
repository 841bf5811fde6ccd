"""Face enrolments, verification attempts and practice sessions (FACE-01 … FACE-04)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.types import Record, UTCDateTime

__all__ = ["FaceChallenge", "FaceEnrolment", "FaceFrameSeen", "FaceVerification", "PracticeSession"]


class FaceEnrolment(Record, table=True):
    """One clinician's face template, sealed at rest and never served back (FACE-01)."""

    __tablename__ = "face_enrolment"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", unique=True)
    template_sealed: bytes
    source: str  # admission_photo | live_capture
    consent_at: datetime = Field(sa_type=UTCDateTime)  # the separate biometric consent (MS 信息使用)
    consent_text: str
    failed_attempts: int = 0  # consecutive failures; reset by a pass (FACE-04)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FaceVerification(Record, table=True):
    """Every attempt, pass or fail, with its distance (FACE-04)."""

    __tablename__ = "face_verification"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    passed: bool
    reason: str  # match | mismatch | replay | no_face | several_faces | locked | not_enrolled | suspended
    distance: float | None = None
    tolerance: float | None = None
    purpose: str = "practice"  # practice | signing | video_watch
    client_address: str = ""


class PracticeSession(Record, table=True):
    """A clinician's period of practice that began with a passed face verification (FACE-02)."""

    __tablename__ = "practice_session"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    verification_id: uuid.UUID = Field(foreign_key="face_verification.id")
    verified_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FaceChallenge(Record, table=True):
    """A liveness challenge (FACE-02): the moves asked, in order, answered once before `expires_at`."""

    __tablename__ = "face_challenge"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    steps: list[str] = Field(sa_type=sa.JSON)
    nonce_sha256: str  # the nonce is returned once to the client; only its hash is kept
    expires_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verification_id: uuid.UUID | None = Field(default=None, foreign_key="face_verification.id")


class FaceFrameSeen(Record, table=True):
    """The SHA-256 of every frame of every answered burst: a burst sent again is refused as a replay (FACE-02)."""

    __tablename__ = "face_frame_seen"

    sha256: str = Field(unique=True)
    challenge_id: uuid.UUID = Field(foreign_key="face_challenge.id", index=True)
