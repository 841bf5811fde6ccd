"""Dispensing and delivery (RX-06, RX-08): only approved prescriptions, once, traced end to end."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.core.audit import AuditEntry
from hospital.core.outbox import OutboxEvent
from hospital.prescriptions.models import Dispensing, Prescription
from hospital.visits.booking.models import Visit
from tests.conftest import FakeClock
from tests.helpers import choose_delivery, count_rows, login_as
from tests.integration.prescriptions.conftest import reviewing_pharmacist
from tests.integration.prescriptions.helpers import approved, dispense, review, written

pytestmark = pytest.mark.requirement("RX-06", "RX-08")


async def deliver(client: AsyncTestClient[Any], headers: dict[str, str], dispensing: dict[str, Any],
                  status: str, **extra: Any) -> Any:
    return await client.post(f"/api/dispensings/{dispensing['dispensing_id']}/delivery", headers=headers,
                             json={"status": status, **extra})


async def test_an_approved_prescription_is_dispensed_shipped_and_delivered_and_the_patient_follows_it(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    rx, pharmacist = await approved(client, visit)
    assert (await choose_delivery(client, rx["prescription_id"])).status_code == 200  # else a pick-up (RX-08)
    assert [q["prescription_id"] for q in (await client.get("/api/dispensing/queue", headers=pharmacist)).json()] == [
        rx["prescription_id"]]
    dispensed = await dispense(client, pharmacist, rx)
    assert dispensed.status_code == 201, dispensed.text
    assert (await client.get("/api/dispensing/queue", headers=pharmacist)).json() == []
    shipped = await deliver(client, pharmacist, dispensed.json(), "shipped", tracking_number="SF1234567890")
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    delivered = await deliver(client, pharmacist, shipped.json(), "delivered", note="本人签收")
    assert delivered.status_code == 200 and delivered.json()["delivered_at"]
    mine = (await client.get("/api/prescriptions", headers=await login_as(client, "patient"))).json()
    assert mine[0]["status"] == "approved" and mine[0]["dispensing"]["tracking_number"] == "SF1234567890"
    assert [h["status"] for h in mine[0]["dispensing"]["history"]] == ["dispensed", "shipped", "delivered"]
    events = (await session.execute(select(OutboxEvent.event_type, OutboxEvent.payload).where(
        OutboxEvent.subject_type == "dispensing").order_by(col(OutboxEvent.seq)))).all()
    assert [e for e, _ in events] == ["dispensing.dispensed", "dispensing.delivery_updated",
                                      "dispensing.delivery_updated"]
    assert events[1][1]["tracking_number"] == "SF1234567890" and events[2][1]["status"] == "delivered"
    audited = (await session.execute(select(AuditEntry.action).where(
        AuditEntry.subject_type == "dispensing"))).scalars().all()
    assert audited == ["prescription.dispensed", "dispensing.shipped", "dispensing.delivered"]


async def test_a_pending_prescription_can_never_be_dispensed(client: AsyncTestClient[Any], session: AsyncSession,
                                                            visit: Visit) -> None:
    rx = await written(client, visit)
    pharmacist = await reviewing_pharmacist(client)
    before = await count_rows(session, Dispensing, OutboxEvent)
    refused = await dispense(client, pharmacist, rx)
    assert refused.status_code == 409 and refused.json()["rule_id"] == "RX-06"
    assert refused.json()["current_state"] == "pending_review"
    assert await count_rows(session, Dispensing, OutboxEvent) == before


async def test_a_rejected_prescription_can_never_be_dispensed(client: AsyncTestClient[Any], session: AsyncSession,
                                                             visit: Visit) -> None:
    rx = await written(client, visit)
    pharmacist = await reviewing_pharmacist(client)
    assert (await review(client, pharmacist, rx, "reject", ["重复用药"], reason_codes=["us_duplicate"])).status_code == 200
    refused = await dispense(client, pharmacist, rx)
    assert refused.status_code == 409 and refused.json()["current_state"] == "rejected"
    assert await count_rows(session, Dispensing) == {"dispensing": 0}


async def test_a_status_set_to_approved_without_a_signed_review_is_not_dispensed(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    rx = await written(client, visit)
    stored = await session.get(Prescription, uuid.UUID(rx["prescription_id"]))
    assert stored is not None
    stored.status = "approved"  # edited in the database, no pharmacist's signature
    await session.commit()
    refused = await dispense(client, await reviewing_pharmacist(client), rx)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-06"
    assert await count_rows(session, Dispensing) == {"dispensing": 0}


async def test_a_prescription_is_dispensed_only_once(client: AsyncTestClient[Any], visit: Visit) -> None:
    rx, pharmacist = await approved(client, visit)
    assert (await dispense(client, pharmacist, rx)).status_code == 201
    again = await dispense(client, pharmacist, rx, "own", None)
    assert again.status_code == 409 and again.json()["rule_id"] == "RX-08"


async def test_an_expired_prescription_is_not_dispensed(client: AsyncTestClient[Any], clock: FakeClock,
                                                       visit: Visit) -> None:
    rx, _ = await approved(client, visit)
    clock.advance(days=2)
    refused = await dispense(client, await reviewing_pharmacist(client), rx)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-03"


async def test_delivery_is_traceable_shipping_needs_tracking_and_steps_keep_their_order(
    client: AsyncTestClient[Any], visit: Visit
) -> None:
    rx, pharmacist = await approved(client, visit)
    assert (await choose_delivery(client, rx["prescription_id"])).status_code == 200
    no_courier = await dispense(client, pharmacist, rx, "third_party", None)
    assert no_courier.status_code == 422 and no_courier.json()["rule_id"] == "RX-08"
    dispensed = (await dispense(client, pharmacist, rx, "own", None)).json()
    assert dispensed["courier_name"] == "本院配送"
    untracked = await deliver(client, pharmacist, dispensed, "shipped")
    assert untracked.status_code == 422 and untracked.json()["rule_id"] == "RX-08"
    early = await deliver(client, pharmacist, dispensed, "delivered")
    assert early.status_code == 409 and early.json()["current_state"] == "dispensed"


async def test_only_a_pharmacist_dispenses(client: AsyncTestClient[Any], visit: Visit) -> None:
    rx, _ = await approved(client, visit)
    for role in ("doctor", "patient", "admin"):
        assert (await dispense(client, await login_as(client, role), rx)).status_code == 403
