"""REC-03: the clinical details an audit entry carries (diagnosis codes, the infectious-disease flag, the referral,
the doctor's note, the booking's findings, a guardian) are sealed like ID numbers: none is in clear in the table."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, AuditEntry, append_audit, open_detail
from hospital.core.errors import ContractViolation
from tests.helpers import login_as
from tests.integration.visits.journey import EMR, accept, book, demo_prior_id, doctor_in_session, schedule_of

CLEAR = ("I10", "原发性高血压", "A15", "咳嗽3周", "示范市肺科医院", "结核科")


async def test_no_diagnosis_infectious_flag_or_referral_is_in_clear_in_the_audit_table(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    patient = await login_as(client, "patient")
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], await demo_prior_id(client, patient))
    visit_id = booked.json()["visit_id"]
    doctor = await doctor_in_session(client)
    assert (await accept(client, doctor, visit_id)).status_code == 200
    assert (await client.post(f"/api/visits/{visit_id}/start", headers=doctor)).status_code == 200
    assert (await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor, json=EMR)).status_code == 200
    terminated = await client.post(f"/api/visits/{visit_id}/terminate", headers=doctor, json={
        "reason": "suspected_infectious", "suspected_icd10": "A15.0", "note": "咳嗽3周，低热",
        "referral": {"institution": "示范市肺科医院", "department": "结核科", "advice": "尽快线下就诊", "urgent": True}})
    assert terminated.status_code == 200, terminated.text
    dump = "\n".join(str(row) for row in (await session.execute(sa.text("SELECT * FROM audit_entry"))).all())
    for clear in CLEAR:
        assert clear not in dump, f"{clear!r} is in clear in audit_entry"
    # The field key opens them: the trail still says what happened.
    entries = {e.action: e for e in (await session.execute(select(AuditEntry))).scalars().all()}
    assert open_detail(entries["medical_record.written"], ctx.cipher)["diagnosis_icd10"] == "I10"
    assert open_detail(entries["visit.booked"], ctx.cipher)["icd10_code"] == "I10"
    assert open_detail(entries["visit.terminated"], ctx.cipher)["referral"]["institution"] == "示范市肺科医院"


async def test_a_clinical_detail_without_the_cipher_is_refused(session: AsyncSession) -> None:
    with pytest.raises(ContractViolation, match="sealed"):
        await append_audit(session, Actor.system(), "x.done", subject_type="x", subject_id="1",
                           detail={"icd10_code": "B24"})
