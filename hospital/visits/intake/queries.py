"""Reads of the patient's own intake records, always scoped to the caller (SEC-01): their patient record,
consent acceptances and prior diagnoses. Any other id is `NotFound`, never 403, so an id reveals nothing.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.core.errors import NotFound
from hospital.patients.models import Patient
from hospital.visits.intake.models import ConsentRecord, PriorDiagnosisRecord

__all__ = [
    "consent_of_patient",
    "consents_of_patient",
    "latest_consent_of_patient",
    "patient_of_user",
    "prior_diagnoses_of_patient",
    "prior_diagnosis_of_patient",
]


async def patient_of_user(session: AsyncSession, user_id: uuid.UUID) -> Patient:
    patient = (await session.execute(select(Patient).where(Patient.user_id == user_id))).scalar_one_or_none()
    if patient is None:
        raise NotFound("no patient record for this user")
    return patient


async def consent_of_patient(session: AsyncSession, patient_id: uuid.UUID, version: str) -> ConsentRecord | None:
    query = select(ConsentRecord).where(ConsentRecord.patient_id == patient_id, ConsentRecord.version == version)
    return (await session.execute(query)).scalar_one_or_none()


async def consents_of_patient(session: AsyncSession, patient_id: uuid.UUID) -> list[ConsentRecord]:
    query = select(ConsentRecord).where(ConsentRecord.patient_id == patient_id).order_by(col(ConsentRecord.accepted_at))
    return list((await session.execute(query)).scalars().all())


async def latest_consent_of_patient(session: AsyncSession, patient_id: uuid.UUID) -> ConsentRecord | None:
    query = (select(ConsentRecord).where(ConsentRecord.patient_id == patient_id)
             .order_by(col(ConsentRecord.accepted_at).desc()).limit(1))
    return (await session.execute(query)).scalar_one_or_none()


async def prior_diagnoses_of_patient(session: AsyncSession, patient_id: uuid.UUID) -> list[PriorDiagnosisRecord]:
    """The patient's prior diagnoses still on offer: a withdrawn one is kept (REC-02) but no longer listed."""
    query = (select(PriorDiagnosisRecord).where(PriorDiagnosisRecord.patient_id == patient_id,
                                                col(PriorDiagnosisRecord.withdrawn_at).is_(None))
             .order_by(col(PriorDiagnosisRecord.diagnosed_on).desc(), col(PriorDiagnosisRecord.created_at).desc()))
    return list((await session.execute(query)).scalars().all())


async def prior_diagnosis_of_patient(session: AsyncSession, prior_id: uuid.UUID, patient_id: uuid.UUID, *,
                                     for_update: bool = False) -> PriorDiagnosisRecord:
    """One of the patient's prior diagnoses (withdrawn ones too: their visits' records name them); `for_update`
    locks the row, so a booking on it and its withdrawal never pass each other (REV-01)."""
    query = select(PriorDiagnosisRecord).where(PriorDiagnosisRecord.id == prior_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    prior = (await session.execute(query)).scalar_one_or_none()
    if prior is None or prior.patient_id != patient_id:
        raise NotFound("no such prior diagnosis")
    return prior
