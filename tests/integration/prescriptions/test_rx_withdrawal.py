"""The doctor withdraws a rejected or undecided prescription instead of revising it (RX-06, issue 15): voided,
audited, reported; only its prescriber, only in a practice session; nobody decides or revises it afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.core.outbox import OutboxEvent
from hospital.identity.service import create_user
from hospital.prescriptions.models import Prescription
from hospital.visits.booking.models import Visit
from tests.helpers import count_rows, event_payload, login, login_as
from tests.integration.prescriptions.conftest import reviewing_pharmacist, rx_body, signing_doctor
from tests.integration.prescriptions.helpers import review, written

pytestmark = pytest.mark.requirement("RX-06", "FACE-02")


def _withdraw(rx: dict[str, Any]) -> str:
    return f"/api/prescriptions/{rx['prescription_id']}/withdrawal"


async def test_the_doctor_withdraws_a_rejected_prescription_and_it_is_voided_for_good(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, visit: Visit
) -> None:
    rx = await written(client, visit)
    pharmacist = await reviewing_pharmacist(client)
    assert (await review(client, pharmacist, rx, "reject", ["用法不清"], reason_codes=["ns_usage_vague"])).status_code == 200
    doctor = await signing_doctor(client)
    withdrawn = await client.post(_withdraw(rx), headers=doctor, json={"reason": "改为线下就诊"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "voided"
    audit = (await session.execute(select(AuditEntry).where(AuditEntry.action == "prescription.withdrawn"))).scalars().all()
    assert len(audit) == 1 and audit[0].rule_id == "RX-06" and "改为线下就诊" not in str(audit[0].detail)  # sealed
    events = (await session.execute(select(OutboxEvent).where(OutboxEvent.event_type == "prescription.voided")
                                    )).scalars().all()
    assert len(events) == 1
    payload = event_payload(events[0], ctx.settings)
    assert payload["prescription_number"] == rx["prescription_number"] and payload["withdrawn"] is True
    # nothing brings it back: not revised, not decided, not withdrawn twice
    before = await count_rows(session, Prescription, OutboxEvent)
    revised = await client.post(f"/api/prescriptions/{rx['prescription_id']}/revisions", headers=doctor,
                                json=rx_body())
    assert revised.status_code == 409 and revised.json()["rule_id"] == "RX-06", revised.text
    approved = await review(client, pharmacist, rx, "approve")
    assert approved.status_code == 409 and approved.json()["rule_id"] == "RX-06", approved.text
    again = await client.post(_withdraw(rx), headers=doctor, json={"reason": "再次撤回"})
    assert again.status_code == 409 and again.json()["current_state"] == "voided", again.text
    assert await count_rows(session, Prescription, OutboxEvent) == before


async def test_an_undecided_prescription_is_withdrawn_and_leaves_the_queue(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    rx = await written(client, visit)
    doctor = await signing_doctor(client)
    withdrawn = await client.post(_withdraw(rx), headers=doctor, json={"reason": "处方开错"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "voided", withdrawn.text
    queue = (await client.get("/api/reviews/queue", headers=await reviewing_pharmacist(client))).json()
    assert rx["prescription_id"] not in [str(q.get("prescription_id")) for q in queue]


async def test_only_its_prescriber_in_a_practice_session_withdraws(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, visit: Visit
) -> None:
    rx = await written(client, visit)
    pharmacist = await reviewing_pharmacist(client)
    assert (await review(client, pharmacist, rx, "reject", ["用法不清"], reason_codes=["ns_usage_vague"])).status_code == 200
    await create_user(session, ctx, username="doctor.other", password="other-pass-2026", role="doctor",
                      display_name="另一位医生")
    await session.commit()
    before = await count_rows(session, OutboxEvent)
    other = await login(client, "doctor.other", "other-pass-2026")
    # another doctor does not see it (404); a pharmacist is no doctor (the role guard); the prescriber without a
    # practice session is sent to verify (FACE-02)
    for headers, status, rule_id in ((other, 404, None), (pharmacist, 403, None),
                                     (await login_as(client, "doctor"), 403, "FACE-02")):
        refused = await client.post(_withdraw(rx), headers=headers, json={"reason": "撤回"})
        assert refused.status_code == status, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json().get("rule_id") == rule_id, refused.text
    assert await count_rows(session, OutboxEvent) == before  # nothing written
    assert not (await session.execute(select(AuditEntry).where(AuditEntry.action == "prescription.withdrawn"))).all()
    view = (await client.get(f"/api/prescriptions/{rx['prescription_id']}", headers=other)).status_code
    assert view in (403, 404)
    mine = (await client.get(f"/api/prescriptions/{rx['prescription_id']}", headers=await login_as(client, "doctor")))
    assert mine.json()["status"] == "rejected", mine.text
