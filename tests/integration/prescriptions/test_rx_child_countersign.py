"""PD 17 over HTTP on both databases: a prescription for a child under 6 by a doctor whose 执业范围 is not
paediatrics waits for a second, paediatric doctor's countersignature (face-verified, audited) before any
pharmacist sees it (REV-05)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.core.outbox import OutboxEvent
from hospital.patients.models import Patient
from hospital.prescriptions.models import Prescription, PrescriptionCountersignature
from tests.faces import face_bytes
from tests.helpers import count_rows, give_biometric_consent, hospital_today, login, login_as
from tests.integration.prescriptions.conftest import (
    make_visit,
    reviewing_pharmacist,
    rx_body,
    signing_doctor,
    verified,
    write,
)
from tests.integration.prescriptions.helpers import review
from tests.integration.visits.journey import MOTHER
from tests.signing import signed_post

pytestmark = pytest.mark.requirement("REV-05")

PAEDIATRICIAN = {
    "kind": "doctor", "username": "doctor.zhou", "initial_password": "zhou-pass-2026", "real_name": "周医生",
    "id_number": "110105199009093412", "title": "主治医师", "clinical_years": 8, "departments": ["07"],
    "credentials": [{"kind": "physician_qualification", "number": "2012310003"},
                    {"kind": "physician_practice", "number": "1103100011", "valid_until": "2099-12-31"}],
    "practice_category": "临床", "practice_scope": "儿科专业", "practice_institution": "示范市第一人民医院"}


# salbutamol inhaler for a child's asthma: suitable under 6, so only the prescriber's scope is in question
CHILD_RX = rx_body({"drug_code": "R03AC02-aer-100mcg", "dose_per_time": "100", "dose_unit": "mcg", "times_per_day": 3,
                    "days_supply": 7, "quantity_packs": 1, "usage": "吸入，喘息时"},
                   diagnoses=(("J45.9", "支气管哮喘"),))


async def _paediatrician(client: AsyncTestClient[Any]) -> dict[str, str]:
    """儿科 opened on the licence with its PD 8(二) physicians, doctor.zhou admitted to it, consenting to the face
    template and verified now."""
    admin = await login_as(client, "admin")
    opened = await client.put("/api/institution/departments/07", headers=admin, json={
        "name": "儿科", "approved": True, "senior_physicians": [
            {"name": "孙主任", "title": "主任医师", "practice_number": "110310000000201"},
            {"name": "李副主任", "title": "副主任医师", "practice_number": "110310000000202"}]})
    assert opened.status_code == 200, opened.text
    admitted = await client.post("/api/staff", headers=admin, data={"application": json.dumps(PAEDIATRICIAN)},
                                 files={"photo": ("photo.jpg", face_bytes("alex1.jpg"), "image/jpeg")})
    assert admitted.status_code == 201, admitted.text
    doctor = await login(client, "doctor.zhou", "zhou-pass-2026")
    await give_biometric_consent(client, doctor)
    return await verified(client, doctor, face_bytes("alex2.jpg"))


async def test_a_child_s_prescription_by_an_internist_reaches_the_pharmacist_only_once_a_paediatrician_countersigns(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    await session.execute(update(Patient).values(birth_date=hospital_today() - timedelta(days=5 * 365 + 30)))
    await session.commit()
    visit = await make_visit(session, ctx, icd10="J45.9", guardian={**MOTHER, "present_confirmed": True})
    internist = await signing_doctor(client)  # doctor.wang, 内科专业
    written = await write(client, internist, visit, CHILD_RX)
    assert written.status_code == 201, written.text
    rx = written.json()
    assert rx["status"] == "awaiting_countersign", rx
    submitted = select(OutboxEvent).where(OutboxEvent.event_type == "prescription.submitted")
    assert (await session.execute(submitted)).first() is None  # nor does the platform see it yet
    await session.rollback()  # the next counts read afresh

    pharmacist = await reviewing_pharmacist(client)
    queue = (await client.get("/api/reviews/queue", headers=pharmacist)).json()
    assert rx["prescription_id"] not in json.dumps(queue)
    before = await count_rows(session, Prescription, PrescriptionCountersignature, AuditEntry)
    early = await review(client, pharmacist, rx, "approve")
    assert early.status_code == 409 and early.json()["rule_id"] == "RX-06", early.text
    own = await signed_post(client, f"/api/prescriptions/{rx['prescription_id']}/countersignature", internist)
    assert own.status_code == 403 and own.json()["rule_id"] == "REV-05", own.text
    assert own.headers["content-type"].startswith("application/problem+json")
    assert await count_rows(session, Prescription, PrescriptionCountersignature, AuditEntry) == before

    refused_queue = await client.get("/api/prescriptions/awaiting-countersignature", headers=internist)
    assert refused_queue.status_code == 403 and refused_queue.json()["rule_id"] == "REV-05", refused_queue.text
    paediatrician = await _paediatrician(client)
    [waiting] = (await client.get("/api/prescriptions/awaiting-countersignature", headers=paediatrician)).json()
    assert waiting["prescription_id"] == rx["prescription_id"]  # read before signing: nobody countersigns blind
    assert waiting["prescription"]["guardian_present"] is True
    signed = await signed_post(client, f"/api/prescriptions/{rx['prescription_id']}/countersignature", paediatrician)
    assert signed.status_code == 200 and signed.json()["status"] == "pending_review", signed.text
    again = await signed_post(client, f"/api/prescriptions/{rx['prescription_id']}/countersignature", paediatrician)
    assert again.status_code == 409 and again.json()["rule_id"] == "REV-05", again.text
    row = (await session.execute(select(PrescriptionCountersignature))).scalar_one()
    assert str(row.prescription_id) == rx["prescription_id"] and row.jws_sealed
    audited = (await session.execute(select(AuditEntry).where(
        AuditEntry.action == "prescription.countersigned"))).scalar_one()
    assert audited.rule_id == "REV-05"
    assert (await session.execute(submitted)).first() is not None
    warnings = [i for i, f in enumerate(rx["findings"]) if f["severity"] == "warn"]
    approved = await review(client, pharmacist, rx, "approve", acknowledgements=[
        {"finding": i, "reason": "benefit_outweighs_risk"} for i in warnings])
    assert approved.status_code == 200, approved.text
