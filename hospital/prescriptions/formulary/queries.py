"""The formulary the app serves: the bundled tables, loaded once per process."""

from __future__ import annotations

from hospital.context import HospitalContext
from hospital.prescriptions.formulary.tables import load_formulary
from hospital.prescriptions.formulary.values import Formulary

__all__ = ["formulary_of"]

def formulary_of(ctx: HospitalContext) -> Formulary:
    """The bundled formulary, loaded once per process."""
    loaded = ctx.formulary
    if loaded is None:
        loaded = ctx.formulary = load_formulary()
    return loaded
