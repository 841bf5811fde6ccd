"""Imports every table so the metadata (and Alembic) sees the whole schema."""

from __future__ import annotations

from hospital.biometrics.models import FaceEnrolment, FaceVerification, PracticeSession
from hospital.core.audit import AuditEntry
from hospital.core.blobs import Blob
from hospital.core.outbox import OutboxEvent
from hospital.identity.models import User
from hospital.institution.models import Department, Licence
from hospital.patients.models import Patient
from hospital.staff.models import StaffMember
from hospital.visits.models import ChatMessage, ConsentRecord, MedicalRecord, PriorDiagnosisRecord, Schedule, Visit

__all__ = ["AuditEntry", "Blob", "ChatMessage", "ConsentRecord", "Department", "FaceEnrolment", "FaceVerification",
           "Licence", "MedicalRecord", "OutboxEvent", "Patient", "PracticeSession", "PriorDiagnosisRecord", "Schedule",
           "StaffMember", "User", "Visit"]
