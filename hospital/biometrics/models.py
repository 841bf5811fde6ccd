"""Face enrolments, verification attempts and practice sessions (FACE-01 … FACE-04)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from hospital.core.types import Record, UTCDateTime

__all__ = ["BiometricConsent", "FaceChallenge", "FaceEnrolment", "FaceFrameSeen", "FaceVerification", "PracticeSession"]


class BiometricConsent(Record, table=True):
    """The clinician's own separate consent to the face template (FACE-01, MS 信息使用, 个人信息保护法 第二十九条):
    given in their own log-in session, with the version and hash of the text shown, the time and the address;
    withdrawn by them, which deletes the template and stops practice."""

    __tablename__ = "biometric_consent"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    version: str
    text_sha256: str
    given_at: datetime = Field(sa_type=UTCDateTime)
    client_address: str
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawal_reason: str | None = None
    withdrawal_address: str | None = None


class FaceEnrolment(Record, table=True):
    """One clinician's face template, sealed at rest and never served back (FACE-01). It takes effect only once
    the clinician's own consent (`consent_id`) is recorded: until then no verification opens practice."""

    __tablename__ = "face_enrolment"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", unique=True)
    template_sealed: bytes
    source: str  # admission_photo | live_capture
    # the clinician's own consent (BiometricConsent); None: enrolment pending, the template is not used
    consent_id: uuid.UUID | None = Field(default=None, foreign_key="biometric_consent.id")
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_text: str | None = None
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
