"""Wire schemas of face verification's HTTP answers (hospital/biometrics/api.py, FACE-02), field for field as the
doctor's and the pharmacist's pages read them (issue 17, "Typed contracts")."""

from __future__ import annotations

import msgspec

__all__ = ["FaceVerificationModes", "LivenessChallenge", "PracticeSessionOpened", "PracticeSessionView"]


class PracticeSessionOpened(msgspec.Struct, kw_only=True):
    """A face verification passed: a practice session and the token that carries it (FACE-02)."""

    practice_session_id: str
    access_token: str
    token_type: str  # Bearer
    expires_in: int  # seconds
    face_verified_at: str  # ISO 8601 with offset
    distance: float  # the face distance measured, rounded to 4 places
    tolerance: float  # the largest distance accepted


class FaceVerificationModes(msgspec.Struct, kw_only=True):
    liveness_challenge: bool  # always
    single_image: bool  # only where HOSPITAL_FACE_SINGLE_IMAGE allows it (never in production)


class LivenessChallenge(msgspec.Struct, kw_only=True):
    """The moves to make in order, the nonce to send back with the frames, and the deadline (FACE-02)."""

    challenge_id: str
    nonce: str
    steps: list[str]
    expires_at: str  # ISO 8601 with offset
    min_frames: int
    max_frames: int


class PracticeSessionView(msgspec.Struct, kw_only=True):
    practice_session_id: str
    face_verified_at: str
    window_seconds: int  # how long a verification lets the clinician practise
