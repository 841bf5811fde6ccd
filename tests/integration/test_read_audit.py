"""Every read of patient data is audited in the request that reads it (SEC-02, AUD-01): a visit, its EMR, its chat,
the visit list, the doctor's queue and the prior-diagnosis list each write one entry naming the records read and
their patients; the bulk-read detector counts those entries, driven here by real reads through the API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.patients.models import Patient
from hospital.visits.booking.models import Schedule, Visit
from hospital.visits.intake.models import PriorDiagnosisRecord
from tests.helpers import login_as
from tests.integration.visits.journey import (
    EMR,
    accept,
    book,
    doctor_in_session,
    file_prior,
    new_patient,
    publish,
)


async def reads(session: AsyncSession, action: str) -> list[AuditEntry]:
    rows = (await session.execute(select(AuditEntry).where(AuditEntry.action == action)
                                  .order_by(AuditEntry.seq))).scalars().all()  # type: ignore[arg-type]
    session.expunge_all()
    await session.rollback()
    return list(rows)


async def running_visit(client: AsyncTestClient[Any], doctor: dict[str, str], schedule_id: str, index: int
                        ) -> tuple[dict[str, str], str]:
    """A new patient's visit, accepted and started by the doctor, with the EMR written: (patient headers, visit id)."""
    patient = await new_patient(client, f"患者{index}", date(1960, 1, 1 + index % 28), f"1370000{index:04d}",
                                order=f"{index % 1000:03d}")
    assert (await file_prior(client, patient)).status_code == 201
    prior = (await client.get("/api/prior-diagnoses", headers=patient)).json()[0]["prior_diagnosis_id"]
    booked = await book(client, patient, schedule_id, prior, mode="text")
    assert booked.status_code == 201, booked.text
    visit_id = booked.json()["visit_id"]
    assert (await accept(client, doctor, visit_id)).status_code == 200
    assert (await client.post(f"/api/visits/{visit_id}/start", headers=doctor)).status_code == 200
    written = await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor, json=EMR)
    assert written.status_code == 200, written.text
    return patient, visit_id


async def visit_in_progress(client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext,
                            doctor: dict[str, str], schedule_id: str, index: int) -> str:
    """A new patient's visit in progress with the EMR written, the visit made directly: accepting it through the API
    opens the patient's prior-diagnosis document (REV-04), a read of its own, and this setup is to read nothing."""
    patient = await new_patient(client, f"患者{index}", date(1960, 1, 1 + index % 28), f"1370000{index:04d}",
                                order=f"{index % 1000:03d}")
    filed = await file_prior(client, patient)
    assert filed.status_code == 201, filed.text
    prior = await session.get(PriorDiagnosisRecord, uuid.UUID(filed.json()["prior_diagnosis_id"]))
    schedule = await session.get(Schedule, uuid.UUID(schedule_id))
    assert prior is not None and schedule is not None
    owner = await session.get(Patient, prior.patient_id)
    assert owner is not None
    now = ctx.now()
    visit = Visit(schedule_id=schedule.id, patient_id=prior.patient_id, patient_user_id=owner.user_id,
                  doctor_user_id=schedule.doctor_user_id, department_code=schedule.department_code, mode="text",
                  prior_diagnosis_id=prior.id, state="in_progress", queue_number=index + 1, accepted_at=now,
                  started_at=now)
    session.add(visit)
    await session.commit()
    visit_id = str(visit.id)
    written = await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor, json=EMR)
    assert written.status_code == 200, written.text
    return visit_id


async def test_every_read_of_patient_data_writes_one_entry_naming_records_and_patients(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    doctor = await doctor_in_session(client)
    schedule = (await publish(client, doctor, capacity=5)).json()["schedule_id"]
    patient, visit_id = await running_visit(client, doctor, schedule, 1)
    me = (await client.get("/api/me", headers=patient)).json()["id"]
    doctor_id = (await client.get("/api/me", headers=doctor)).json()["id"]
    assert (await client.post(f"/api/visits/{visit_id}/messages", headers=patient, json={"body": "医生好"})).status_code
    for path, action, reader, reader_id in (
        (f"/api/visits/{visit_id}", "visit.read", doctor, doctor_id),
        (f"/api/visits/{visit_id}/medical-record", "medical_record.read", doctor, doctor_id),
        (f"/api/visits/{visit_id}/messages", "chat.read", patient, me),
        ("/api/visits", "visit.list_read", doctor, doctor_id),
        ("/api/prior-diagnoses", "prior_diagnosis.list_read", patient, me),
    ):
        before = len(await reads(session, action))
        response = await client.get(path, headers=reader)
        assert response.status_code == 200, response.text
        entries = await reads(session, action)
        assert len(entries) == before + 1, f"{path}: {action} not audited once"
        entry = entries[-1]
        assert str(entry.actor_id) == reader_id and entry.detail["patients"] == [me], entry.detail
        assert entry.detail["records"], entry.detail
    # A refused read (not the caller's visit) reads nothing and writes nothing.
    stranger = await login_as(client, "patient")
    before = len(await reads(session, "visit.read"))
    assert (await client.get(f"/api/visits/{visit_id}", headers=stranger)).status_code == 404
    assert len(await reads(session, "visit.read")) == before


async def test_one_doctor_reading_forty_patients_emrs_opens_a_bulk_access_incident(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    doctor = await doctor_in_session(client)
    schedule = (await publish(client, doctor, capacity=40)).json()["schedule_id"]
    visits = [await visit_in_progress(client, session, ctx, doctor, schedule, i) for i in range(40)]
    admin = await login_as(client, "admin")
    assert (await client.post("/api/admin/security/scan", headers=admin)).json()["opened"] == []  # writing is no read
    for visit_id in visits:
        response = await client.get(f"/api/visits/{visit_id}/medical-record", headers=doctor)
        assert response.status_code == 200, response.text
    scanned = (await client.post("/api/admin/security/scan", headers=admin)).json()
    assert len(scanned["opened"]) == 1, scanned
    incident = (await client.get(f"/api/admin/security/incidents/{scanned['opened'][0]}", headers=admin)).json()
    doctor_id = (await client.get("/api/me", headers=doctor)).json()["id"]
    assert incident["kind"] == "bulk_access" and incident["account"]["user_id"] == doctor_id
    assert incident["affected_subjects"] == 40 and incident["evidence"]["actions"] == {"medical_record.read": 40}
