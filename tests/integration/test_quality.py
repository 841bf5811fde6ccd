"""QA-01/QA-02 and SUP-04 events over HTTP, on both databases."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.blobs import Blob
from hospital.core.outbox import OutboxEvent
from hospital.identity.models import User
from hospital.patients.models import Patient
from hospital.quality.models import Rating
from hospital.visits.booking.models import Schedule, Visit
from hospital.visits.intake.models import PriorDiagnosisContent, sealed_prior
from tests.helpers import count_rows, event_payload, login_as, stop_service

pytestmark = pytest.mark.requirement("QA-01", "QA-02", "SUP-04")


async def make_visit(session: AsyncSession, ctx: HospitalContext, state: str) -> Visit:
    """A visit row in `state`, made directly: these tests are about what follows a visit, not the visit."""
    now = ctx.now()
    patient = (await session.execute(select(Patient))).scalars().first()
    doctor = (await session.execute(select(User).where(User.role == "doctor"))).scalars().first()
    assert patient is not None and doctor is not None
    document = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    session.add(Blob(sha256=document, size=1, content_type="application/pdf", retention_class="medical_record",
                     purge_not_before=date(2041, 1, 1)))
    prior = sealed_prior(ctx.cipher, PriorDiagnosisContent("I10", "I10", "高血压", "示范市第一人民医院"),
                         patient_id=patient.id, document_type="outpatient_record",
                         diagnosed_on=now.date() - timedelta(days=90), document_sha256=document,
                         document_content_type="application/pdf")
    schedule = Schedule(doctor_user_id=doctor.id, department_code="03.03", starts_at=now - timedelta(hours=2),
                        ends_at=now - timedelta(hours=1), capacity=5, booked=1)
    session.add_all([prior, schedule])
    await session.flush()
    visit = Visit(schedule_id=schedule.id, patient_id=patient.id, patient_user_id=patient.user_id,
                  doctor_user_id=doctor.id, department_code="03.03", mode="video", prior_diagnosis_id=prior.id,
                  state=state, queue_number=1)
    session.add(visit)
    await session.commit()
    return visit


async def test_a_patient_rates_an_ended_visit_once_and_the_platform_hears_of_it(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    visit = await make_visit(session, ctx, "completed")
    patient = await login_as(client, "patient")
    rated = await client.post(f"/api/visits/{visit.id}/rating", headers=patient, json={"score": 5, "comment": "很好"})
    assert rated.status_code == 201, rated.text
    again = await client.post(f"/api/visits/{visit.id}/rating", headers=patient, json={"score": 1})
    assert again.status_code == 422 and again.json()["rule_id"] == "QA-01"
    events = (await session.execute(select(OutboxEvent).where(OutboxEvent.event_type == "rating.submitted"))).scalars().all()
    assert [e.payload["score"] for e in events] == [5] and events[0].subject_id == str(visit.id)
    assert "很好" not in str(events[0].payload) and event_payload(events[0], ctx.settings)["comment"] == "很好"


@pytest.mark.parametrize("body", [{"score": 0}, {"score": 6}])
async def test_scores_outside_one_to_five_are_refused(client: AsyncTestClient[Any], session: AsyncSession,
                                                      ctx: HospitalContext, demo: None, body: dict[str, int]) -> None:
    visit = await make_visit(session, ctx, "completed")
    refused = await client.post(f"/api/visits/{visit.id}/rating", headers=await login_as(client, "patient"), json=body)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "QA-01"
    assert await count_rows(session, Rating) == {"rating": 0}


async def test_a_visit_still_running_cannot_be_rated(client: AsyncTestClient[Any], session: AsyncSession,
                                                    ctx: HospitalContext, demo: None) -> None:
    visit = await make_visit(session, ctx, "in_progress")
    refused = await client.post(f"/api/visits/{visit.id}/rating", headers=await login_as(client, "patient"),
                                json={"score": 4})
    assert refused.status_code == 422 and "in_progress" in refused.json()["detail"]


async def test_another_patients_visit_is_not_found(client: AsyncTestClient[Any], session: AsyncSession,
                                                  ctx: HospitalContext, demo: None) -> None:
    visit = await make_visit(session, ctx, "completed")
    other = {"real_name": "李四", "id_number": "110105199009093412", "phone": "13912345678", "password": "li-pass-2026"}
    assert (await client.post("/api/patients", json=other)).status_code == 201
    from tests.helpers import login

    headers = await login(client, other["phone"], other["password"])
    assert (await client.post(f"/api/visits/{visit.id}/rating", headers=headers, json={"score": 5})).status_code == 404


async def test_a_complaint_is_answered_once_and_an_escalation_is_a_dispute(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    visit = await make_visit(session, ctx, "completed")
    patient, admin = await login_as(client, "patient"), await login_as(client, "admin")
    filed = await client.post("/api/complaints", headers=patient,
                              json={"category": "medical", "description": "医生未解释用药风险", "visit_id": str(visit.id)})
    assert filed.status_code == 201, filed.text
    complaint_id = filed.json()["complaint_id"]
    assert (await client.get("/api/complaints", headers=patient)).json()[0]["status"] == "open"
    answered = await client.post(f"/api/complaints/{complaint_id}/answer", headers=admin,
                                 json={"outcome": "dispute", "response": "已转医患纠纷调解程序"})
    assert answered.status_code == 200 and answered.json()["status"] == "dispute"
    twice = await client.post(f"/api/complaints/{complaint_id}/answer", headers=admin,
                              json={"outcome": "resolved", "response": "再次处理"})
    assert twice.status_code == 409 and twice.json()["current_state"] == "dispute"
    query = select(OutboxEvent.event_type).where(OutboxEvent.subject_type == "complaint")
    types = (await session.execute(query)).scalars().all()
    assert sorted(types) == ["complaint.dispute", "complaint.filed"]


async def test_a_drug_adverse_event_must_name_the_drug(client: AsyncTestClient[Any], session: AsyncSession,
                                                      ctx: HospitalContext, demo: None) -> None:
    doctor = await login_as(client, "doctor")
    body = {"kind": "drug", "severity": "moderate", "occurred_on": ctx.now().date().isoformat(),
            "description": "服药后出现皮疹"}
    refused = await client.post("/api/adverse-events", headers=doctor, json=body)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "QA-01"
    reported = await client.post("/api/adverse-events", headers=doctor, json={**body, "drug_code": "amlodipine-5mg-tab"})
    assert reported.status_code == 201
    query = select(OutboxEvent).where(OutboxEvent.event_type == "adverse_event.reported")
    events = (await session.execute(query)).scalars().all()
    assert len(events) == 1 and events[0].payload["severity"] == "moderate"


async def test_a_stopped_hospital_refuses_clinical_work_until_it_resumes(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    from hospital.core.errors import ServiceStopped
    from hospital.institution.service import require_licence_in_force

    admin = await login_as(client, "admin")
    stopped = await stop_service(client, session, ctx, "药师不足，暂停服务")  # asked, then confirmed by a second admin
    assert stopped.status_code == 200, stopped.text
    assert (await client.get("/api/institution/")).json()["service_stopped"] is True
    with pytest.raises(ServiceStopped) as refused:
        await require_licence_in_force(session, ctx)
    assert refused.value.rule_id == "QA-02"
    await session.rollback()
    assert (await client.delete("/api/institution/service-stop", headers=admin)).status_code == 200
    await require_licence_in_force(session, ctx)
