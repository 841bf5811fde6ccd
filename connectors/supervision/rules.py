"""The connector's rule: operating needs the supervision platform (SUP-01). Pure."""

from __future__ import annotations

from hospital.core.errors import ServiceStopped
from hospital.core.rule_registry import rule

__all__ = ["check_platform_connected"]


@rule("SUP-01", "Clinical work needs the supervision platform configured and accepting the hospital's records",
      source="GD 一")
def check_platform_connected(*, required: bool, configured: bool, accepted: bool) -> None:
    """Where the connection is required (production), refuse clinical work until a platform is configured and
    has accepted at least one signed request of the hospital (the institution record, or any other)."""
    if not required:
        return
    if not configured:
        raise ServiceStopped("SUP-01", "no supervision platform is configured (HOSPITAL_SUPERVISION_URL and the "
                                       "unit's credentials); clinical work is refused until the hospital reports")
    if not accepted:
        raise ServiceStopped("SUP-01", "the supervision platform has not yet accepted a record of this hospital "
                                       "(run `hospital connector run`); clinical work is refused until it has")
