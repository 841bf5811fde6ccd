"""Imports every table so the metadata (and Alembic) sees the whole schema."""

from __future__ import annotations

from hospital.biometrics.models import FaceEnrolment, FaceVerification, PracticeSession
from hospital.core.audit import AuditEntry
from hospital.core.blobs import Blob
from hospital.core.outbox import OutboxEvent
from hospital.identity.models import User
from hospital.institution.models import Department, Licence, ServiceStop
from hospital.patients.models import Patient
from hospital.quality.models import AdverseEvent, Complaint, Rating
from hospital.staff.models import StaffMember
from hospital.visits.models import ChatMessage, ConsentRecord, MedicalRecord, PriorDiagnosisRecord, Schedule, Visit

__all__ = [
           "AdverseEvent",
           "AuditEntry",
           "Blob",
           "ChatMessage",
           "Complaint",
           "ConsentRecord",
           "Department",
           "FaceEnrolment",
           "FaceVerification",
           "Licence",
           "MedicalRecord",
           "OutboxEvent",
           "Patient",
           "PracticeSession",
           "PriorDiagnosisRecord",
           "Rating",
           "Schedule",
           "ServiceStop",
           "StaffMember",
           "User",
           "Visit",
]
