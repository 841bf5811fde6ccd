"""The practice gate: what every clinical act calls before acting in a clinician's name."""

from __future__ import annotations

from hospital.biometrics import rules
from hospital.context import HospitalContext
from hospital.identity.tokens import Principal

__all__ = ["require_practice_session", "require_signing_freshness"]


def require_practice_session(ctx: HospitalContext, principal: Principal) -> None:
    """FACE-02: accepting a visit or reviewing a prescription needs a verification younger than the window."""
    rules.check_fresh_verification(principal.role, principal.face_verified_at, ctx.now(),
                                   ctx.settings.practice_window_seconds)


def require_signing_freshness(ctx: HospitalContext, principal: Principal) -> None:
    """FACE-03: signing needs a verification younger than the signing window (5 minutes by default)."""
    rules.check_fresh_for_signing(principal.role, principal.face_verified_at, ctx.now(),
                                  ctx.settings.signing_window_seconds)

