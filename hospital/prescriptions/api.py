"""The prescriptions area's controllers, one set per sub-area, for the app's ROUTES."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from hospital.prescriptions.dispensing.api import DispensingController
from hospital.prescriptions.formulary.api import FormularyController
from hospital.prescriptions.printing.api import PrintingController
from hospital.prescriptions.review.api import ReviewController
from hospital.prescriptions.safety.api import SafetyContextController
from hospital.prescriptions.writing.api import PrescriptionController

__all__ = ["PRESCRIPTION_ROUTES"]

PRESCRIPTION_ROUTES: list[ControllerRouterHandler] = [
    PrescriptionController, ReviewController, DispensingController, FormularyController, SafetyContextController,
    PrintingController,
]
