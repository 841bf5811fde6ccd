"""The practice gate: what every clinical act calls before acting in a clinician's name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hospital.biometrics import rules
from hospital.context import HospitalContext
from hospital.core.errors import InvalidInput
from hospital.identity.tokens import Principal

__all__ = ["require_practice_session", "require_signing_freshness", "single_upload"]


def require_practice_session(ctx: HospitalContext, principal: Principal) -> None:
    """FACE-02: accepting a visit or reviewing a prescription needs a verification younger than the window."""
    rules.check_fresh_verification(principal.role, principal.face_verified_at, ctx.now(),
                                   ctx.settings.practice_window_seconds)


def require_signing_freshness(ctx: HospitalContext, principal: Principal) -> None:
    """FACE-03: signing needs a verification younger than the signing window (5 minutes by default)."""
    rules.check_fresh_for_signing(principal.role, principal.face_verified_at, ctx.now(),
                                  ctx.settings.signing_window_seconds)


def single_upload(form: Mapping[str, Any], field: str) -> Any:
    upload = form.get(field)
    if upload is None or not hasattr(upload, "read"):
        raise InvalidInput(f"send the picture as the multipart file field '{field}'")
    return upload
