"""The visits area's controllers, gathered from its sub-areas' `api` modules for the app's ROUTES."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from hospital.visits.booking.api import DoctorQueueController, PriorDiagnosisWithdrawalController, ScheduleController
from hospital.visits.encounter.api import ScheduleWithdrawalController, VisitController
from hospital.visits.intake.api import ConsentController, DiagnosisCatalogueController, PriorDiagnosisController

__all__ = ["VISIT_ROUTES"]

VISIT_ROUTES: list[ControllerRouterHandler] = [
    ConsentController, PriorDiagnosisController, ScheduleController, ScheduleWithdrawalController, VisitController,
    DoctorQueueController, PriorDiagnosisWithdrawalController, DiagnosisCatalogueController,
]
