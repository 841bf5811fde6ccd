"""Imports every table so the metadata (and Alembic) sees the whole schema."""

from __future__ import annotations

from hospital.biometrics.models import FaceEnrolment, FaceVerification, PracticeSession
from hospital.core.audit import AuditEntry
from hospital.core.blobs import Blob
from hospital.core.leases import JobLease
from hospital.core.outbox import OutboxEvent
from hospital.identity.models import AuthSession, LoginAttemptWindow, User
from hospital.institution.models import Department, Licence, ServiceStop
from hospital.patients.models import Patient
from hospital.prescriptions.models import Dispensing, Prescription, PrescriptionCheck, PrescriptionReview
from hospital.prescriptions.safety.models import PatientSafetyContext
from hospital.quality.models import AdverseEvent, Complaint, Rating
from hospital.security.incidents.models import SecurityIncident, SecurityIncidentStep
from hospital.signing.models import ClinicianCredential, SigningAuthority
from hospital.staff.models import StaffMember
from hospital.video.models import CallPlacement, MediaWorker, VideoFaceCheck, VisitRecording
from hospital.visits.booking.models import Schedule, Visit
from hospital.visits.encounter.models import ChatMessage, MedicalRecord
from hospital.visits.intake.models import ConsentRecord, PriorDiagnosisRecord

__all__ = [
           "AdverseEvent",
           "AuditEntry",
           "AuthSession",
           "Blob",
           "CallPlacement",
           "ChatMessage",
           "ClinicianCredential",
           "Complaint",
           "ConsentRecord",
           "Department",
           "Dispensing",
           "FaceEnrolment",
           "FaceVerification",
           "JobLease",
           "Licence",
           "LoginAttemptWindow",
           "MediaWorker",
           "MedicalRecord",
           "OutboxEvent",
           "Patient",
           "PatientSafetyContext",
           "PracticeSession",
           "Prescription",
           "PrescriptionCheck",
           "PrescriptionReview",
           "PriorDiagnosisRecord",
           "Rating",
           "Schedule",
           "SecurityIncident",
           "SecurityIncidentStep",
           "ServiceStop",
           "SigningAuthority",
           "StaffMember",
           "User",
           "VideoFaceCheck",
           "Visit",
           "VisitRecording",
]
