"""The security area's controllers, gathered from its sub-areas' `api` modules for the app's ROUTES."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from hospital.security.detection.api import SecurityScanController
from hospital.security.incidents.api import SecurityIncidentController

__all__ = ["SECURITY_ROUTES"]

SECURITY_ROUTES: list[ControllerRouterHandler] = [SecurityIncidentController, SecurityScanController]
