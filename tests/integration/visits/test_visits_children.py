"""Issue 16 over HTTP on both databases: a child's consent is the guardian's (PAT-02), and a child under 6
starts a visit only once the doctor confirms the guardian is present, which the record keeps (REV-05)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.core.audit import AuditEntry
from hospital.visits.booking.models import Visit
from hospital.visits.intake.models import ConsentRecord
from tests.helpers import count_rows, hospital_today
from tests.integration.visits.journey import (
    EMR,
    MOTHER,
    accept,
    book,
    doctor_in_session,
    file_prior,
    new_patient,
    resident_id,
    schedule_of,
)


async def test_a_child_of_five_consents_through_the_guardian_and_starts_only_with_the_guardian_confirmed(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    birth = hospital_today() - timedelta(days=5 * 365 + 30)
    child = await new_patient(client, "小红", birth, "13911110026", consent=False)
    version = (await client.get("/api/consent")).json()["version"]
    before = await count_rows(session, ConsentRecord, AuditEntry)
    alone = await client.post("/api/consent/acceptances", headers=child, json={"version": version})
    assert alone.status_code == 422 and alone.json()["rule_id"] == "PAT-02", alone.text
    minor_guardian = {**MOTHER, "id_number": resident_id(hospital_today() - timedelta(days=16 * 365))}
    young = await client.post("/api/consent/acceptances", headers=child, json={"version": version,
                                                                               "guardian": minor_guardian})
    assert young.status_code == 422 and young.json()["rule_id"] == "PAT-02", young.text
    assert await count_rows(session, ConsentRecord, AuditEntry) == before
    accepted = await client.post("/api/consent/acceptances", headers=child, json={"version": version,
                                                                                  "guardian": MOTHER})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["accepted_by_guardian"]["name"] == MOTHER["name"]
    assert accepted.json()["accepted_by_guardian"]["id_number"].startswith(MOTHER["id_number"][:6] + "*")

    prior = await file_prior(client, child, icd10_code="E10.9", diagnosis_name="1型糖尿病")
    assert prior.status_code == 201, prior.text
    booked = await book(client, child, (await schedule_of(client, "03.07"))["schedule_id"],
                        prior.json()["prior_diagnosis_id"], guardian={**MOTHER, "present_confirmed": True})
    assert booked.status_code == 201, booked.text
    visit_id = booked.json()["visit_id"]
    doctor = await doctor_in_session(client)
    assert (await accept(client, doctor, visit_id)).status_code == 200
    before = await count_rows(session, Visit, AuditEntry)
    for body in (None, {"guardian_present_confirmed": False}):
        refused = await client.post(f"/api/visits/{visit_id}/start", headers=doctor, json=body)
        assert refused.status_code == 422 and refused.json()["rule_id"] == "REV-05", refused.text
    assert await count_rows(session, Visit, AuditEntry) == before
    started = await client.post(f"/api/visits/{visit_id}/start", headers=doctor,
                                json={"guardian_present_confirmed": True})
    assert started.status_code == 200 and started.json()["guardian_presence_confirmed_at"], started.text
    written = await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor,
                               json={**EMR, "diagnosis_icd10": "E10.9", "diagnosis_name": "1型糖尿病"})
    assert written.status_code == 200, written.text
    assert written.json()["guardian_presence_confirmed_at"] == started.json()["guardian_presence_confirmed_at"]
