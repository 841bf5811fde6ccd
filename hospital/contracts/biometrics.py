"""Events of the biometrics area (FACE-02, FACE-04): every face verification, and the lock-out alert."""

from __future__ import annotations

from hospital.contracts.base import AwareDatetime, Payload

__all__ = ["EVENTS", "FaceVerified", "SecurityAlert"]


class FaceVerified(Payload, kw_only=True):
    """`face.verification` (subject: the verification), passed or failed (FACE-04)."""

    verification_id: str
    user_id: str  # the clinician verified
    at: AwareDatetime
    passed: bool
    reason: str  # match, mismatch, no_face …
    distance: float | None = None
    tolerance: float | None = None
    scene: str | None = None  # the platform's scene when not the practice-session check (执业核验)
    visit_id: str | None = None  # a verification made for one visit names it


class SecurityAlert(Payload, kw_only=True):
    """`security.alert` (subject: the user): repeated failures locked face verification (FACE-04)."""

    kind: str  # face_verification_locked
    user_id: str
    failed_attempts: int
    locked_until: AwareDatetime | None = None


EVENTS: dict[str, type[Payload]] = {"face.verification": FaceVerified, "security.alert": SecurityAlert}
