"""The visits area's controllers, for the app's ROUTES."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from hospital.visits.intake.api import ConsentController, PriorDiagnosisController
from hospital.visits.visit_api import DoctorQueueController, ScheduleController, VisitController

__all__ = ["VISIT_ROUTES"]

VISIT_ROUTES: list[ControllerRouterHandler] = [
    ConsentController, PriorDiagnosisController, ScheduleController, VisitController, DoctorQueueController,
]
