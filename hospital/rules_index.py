"""Imports every area's rules module, so the registry is complete."""

from __future__ import annotations

import importlib

from hospital.core.rule_registry import RegisteredRule, all_rules

__all__ = ["RULE_MODULES", "load_all_rules"]

RULE_MODULES = (
    "connectors.supervision.rules",
    "hospital.biometrics.rules",
    "hospital.identity.rules",
    "hospital.institution.rules",
    "hospital.patients.rules",
    "hospital.prescriptions.rules",
    "hospital.prescriptions.dispensing.rules",
    "hospital.prescriptions.safety.rules",
    "hospital.prescriptions.writing.rules",
    "hospital.quality.rules",
    "hospital.retention.rules",
    "hospital.security.incidents.rules",
    "hospital.security.detection.rules",
    "hospital.signing.rules",
    "hospital.staff.rules",
    "hospital.video.rules",
    "hospital.visits.intake.rules",
    "hospital.visits.booking.rules",
    "hospital.visits.encounter.rules",
)


def load_all_rules() -> list[RegisteredRule]:
    for name in RULE_MODULES:
        importlib.import_module(name)
    return all_rules()
