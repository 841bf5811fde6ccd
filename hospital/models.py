"""Imports every table so the metadata (and Alembic) sees the whole schema."""

from __future__ import annotations

from hospital.core.audit import AuditEntry
from hospital.core.outbox import OutboxEvent
from hospital.identity.models import User
from hospital.institution.models import Department, Licence
from hospital.patients.models import Patient

__all__ = ["AuditEntry", "Department", "Licence", "OutboxEvent", "Patient", "User"]
