"""The visit's state governs its prescriptions (RX-06, REV-04): ending a visit voids what waits for review,
and nothing of a terminated or cancelled visit is approved or dispensed. Through the HTTP API, both databases."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.core.audit import AuditEntry
from hospital.core.outbox import OutboxEvent
from hospital.prescriptions.models import Dispensing, Prescription, PrescriptionReview
from hospital.visits.booking.models import Visit
from tests.helpers import count_rows, event_payload, login_as
from tests.integration.prescriptions.conftest import reviewing_pharmacist, signing_doctor
from tests.integration.prescriptions.helpers import approved, dispense, review, written

REFERRAL = {"reason": "first_visit_discovered", "note": "既往诊断与本次症状不符",
            "referral": {"institution": "示范市第一人民医院", "department": "心内科", "advice": "线下初诊", "urgent": False}}


async def _status(session: AsyncSession, rx: dict[str, Any]) -> Prescription:
    session.expire_all()
    found = await session.get(Prescription, __import__("uuid").UUID(rx["prescription_id"]))
    assert found is not None
    return found


async def test_terminating_the_visit_voids_its_pending_prescription_audited_and_reported(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: Any, visit: Visit
) -> None:
    rx = await written(client, visit)
    doctor = await signing_doctor(client)
    terminated = await client.post(f"/api/visits/{visit.id}/terminate", headers=doctor, json=REFERRAL)
    assert terminated.status_code == 200, terminated.text

    stored = await _status(session, rx)
    assert stored.status == "voided" and stored.voided_at is not None
    audit = (await session.execute(select(AuditEntry).where(AuditEntry.action == "prescription.voided"))).scalars().one()
    assert audit.subject_id == str(stored.id) and audit.rule_id == "RX-06"
    event = (await session.execute(select(OutboxEvent).where(
        OutboxEvent.event_type == "prescription.voided"))).scalars().one()
    payload = event_payload(event, ctx.settings)
    assert payload["prescription_id"] == rx["prescription_id"] and payload["visit_state"] == "terminated"

    before = await count_rows(session, PrescriptionReview)
    refused = await review(client, await reviewing_pharmacist(client), rx, "approve")
    assert refused.status_code == 409 and refused.json()["rule_id"] == "RX-06"
    assert await count_rows(session, PrescriptionReview) == before


async def test_the_patient_cancelling_the_visit_voids_its_pending_prescription(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    rx = await written(client, visit)
    cancelled = await client.post(f"/api/visits/{visit.id}/cancel", headers=await login_as(client, "patient"), json={})
    assert cancelled.status_code == 200, cancelled.text

    assert (await _status(session, rx)).status == "voided"


async def test_a_pending_prescription_of_a_terminated_visit_is_never_approved(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    # the visit's state is read at review, whatever the prescription's status says
    rx = await written(client, visit)
    stored = await session.get(Visit, visit.id)
    assert stored is not None
    stored.state = "terminated"
    session.add(stored)
    await session.commit()
    pharmacist = await reviewing_pharmacist(client)
    before = await count_rows(session, PrescriptionReview, AuditEntry, OutboxEvent)

    refused = await review(client, pharmacist, rx, "approve")

    assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-06", refused.text
    assert await count_rows(session, PrescriptionReview, AuditEntry, OutboxEvent) == before
    assert (await _status(session, rx)).status == "pending_review"


async def test_an_approved_prescription_of_a_visit_terminated_afterwards_is_not_dispensed(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    rx, pharmacist = await approved(client, visit)
    terminated = await client.post(f"/api/visits/{visit.id}/terminate", headers=await signing_doctor(client),
                                   json=REFERRAL)
    assert terminated.status_code == 200, terminated.text
    assert (await _status(session, rx)).status == "approved"  # decided: kept, but never sent
    before = await count_rows(session, Dispensing, AuditEntry, OutboxEvent)

    refused = await dispense(client, pharmacist, rx)

    assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-06", refused.text
    assert await count_rows(session, Dispensing, AuditEntry, OutboxEvent) == before
