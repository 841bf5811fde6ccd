"""The visits area's controllers, for the app's ROUTES."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from hospital.visits.encounter.api import DoctorQueueController, ScheduleController, VisitController
from hospital.visits.intake.api import ConsentController, PriorDiagnosisController

__all__ = ["VISIT_ROUTES"]

VISIT_ROUTES: list[ControllerRouterHandler] = [
    ConsentController, PriorDiagnosisController, ScheduleController, VisitController, DoctorQueueController,
]
