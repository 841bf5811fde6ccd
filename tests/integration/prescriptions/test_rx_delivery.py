"""The patient's pick-up or delivery choice (RX-08): a delivery goes to a valid mainland address, sealed at rest,
read in full only by the patient and the shipping pharmacist (audited); a pick-up is never shipped."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.core.audit import AuditEntry
from hospital.prescriptions.models import DeliveryChoice, Dispensing
from hospital.visits.booking.models import Visit
from tests.helpers import ADDRESS, choose_delivery, count_rows, login_as
from tests.integration.prescriptions.helpers import approved, dispense

pytestmark = pytest.mark.requirement("RX-08")


async def ship(client: AsyncTestClient[Any], pharmacist: dict[str, str], dispensing_id: str) -> Any:
    return await client.post(f"/api/dispensings/{dispensing_id}/delivery", headers=pharmacist,
                             json={"status": "shipped", "tracking_number": "SF1234567890"})


async def audited(session: AsyncSession, action: str) -> int:
    found = (await session.execute(select(AuditEntry).where(AuditEntry.action == action))).scalars().all()
    await session.rollback()
    return len(found)


async def test_a_prescription_is_a_pick_up_until_the_patient_chooses_and_a_pick_up_is_not_shipped(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    rx, pharmacist = await approved(client, visit)
    mine = (await client.get("/api/prescriptions", headers=await login_as(client, "patient"))).json()
    assert mine[0]["fulfilment"] == {"method": "pickup", "address": None, "chosen_at": None}
    dispensed = await dispense(client, pharmacist, rx, "own", None)
    assert dispensed.status_code == 201, dispensed.text
    refused = await ship(client, pharmacist, dispensed.json()["dispensing_id"])
    assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-08", refused.text
    row = (await session.execute(select(Dispensing))).scalar_one()
    assert row.status == "dispensed" and row.tracking_number is None and row.version == 1
    await session.rollback()
    assert await audited(session, "dispensing.shipped") == 0


@pytest.mark.parametrize("change", [
    {"mobile": "12800138000"}, {"mobile": "1380013800"}, {"province": "香港特别行政区"}, {"province": "广东"},
    {"detail": ""}, {"recipient": " "}, {"postcode": "51805"}, None])
async def test_delivery_without_a_valid_mainland_address_is_refused_and_nothing_is_written(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit, change: dict[str, str] | None
) -> None:
    rx, _ = await approved(client, visit)
    patient = await login_as(client, "patient")
    body: dict[str, Any] = {"method": "delivery"}
    if change is not None:
        body["address"] = {**ADDRESS, **change}
    refused = await client.put(f"/api/prescriptions/{rx['prescription_id']}/fulfilment", headers=patient, json=body)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-08", refused.text
    assert await count_rows(session, DeliveryChoice) == {"delivery_choice": 0}
    assert await audited(session, "prescription.fulfilment_chosen") == 0


async def test_shipping_a_delivery_with_no_address_on_record_is_refused_and_leaves_nothing(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    """A delivery row without an address (written before this check, or by hand) is not shipped anywhere."""
    rx, pharmacist = await approved(client, visit)
    dispensed = (await dispense(client, pharmacist, rx)).json()
    session.add(DeliveryChoice(prescription_id=uuid.UUID(rx["prescription_id"]), method="delivery",
                               address_sealed=None, chosen_at=(await session.get(Dispensing, uuid.UUID(
                                   dispensed["dispensing_id"]))).dispensed_at))  # type: ignore[union-attr]
    await session.commit()
    refused = await ship(client, pharmacist, dispensed["dispensing_id"])
    assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-08", refused.text
    assert "address" in refused.json()["detail"]
    row = (await session.execute(select(Dispensing))).scalar_one()
    assert row.status == "dispensed" and row.shipped_at is None
    await session.rollback()


async def test_the_address_is_sealed_at_rest_masked_in_lists_and_read_in_full_by_the_pharmacist_audited(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    rx, pharmacist = await approved(client, visit)
    chosen = await choose_delivery(client, rx["prescription_id"])
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["address"] == ADDRESS
    # Not in clear anywhere in the database: the choice's raw row, nor the audit trail.
    raw = (await session.execute(text("SELECT * FROM delivery_choice"))).one()
    audit = (await session.execute(text("SELECT * FROM audit_entry"))).all()
    await session.rollback()
    dumped = repr(raw).encode() + b"".join(bytes(c) if isinstance(c, bytes | memoryview) else str(c).encode()
                                            for c in [*raw, *(c for r in audit for c in r)])
    for secret in (ADDRESS["detail"], ADDRESS["mobile"], ADDRESS["recipient"]):
        assert secret.encode() not in dumped and secret not in repr(raw)
    # A list shows it masked ...
    mine = (await client.get("/api/prescriptions", headers=await login_as(client, "patient"))).json()
    masked = mine[0]["fulfilment"]["address"]
    assert mine[0]["fulfilment"]["method"] == "delivery" and masked["province"] == "广东省"
    assert masked["mobile"] == "138****8000" and masked["detail"] == "****" and masked["recipient"] == "张*"
    # ... the pharmacist shipping it reads it in full, and the read is audited.
    before = await audited(session, "prescription.delivery_address_read")
    full = await client.get(f"/api/prescriptions/{rx['prescription_id']}/delivery-address", headers=pharmacist)
    assert full.status_code == 200 and full.json()["address"] == ADDRESS, full.text
    assert await audited(session, "prescription.delivery_address_read") == before + 1
    dispensed = (await dispense(client, pharmacist, rx)).json()
    shipped = await ship(client, pharmacist, dispensed["dispensing_id"])
    assert shipped.status_code == 200, shipped.text
    # Once dispensed, the choice is settled.
    late = await client.put(f"/api/prescriptions/{rx['prescription_id']}/fulfilment",
                            headers=await login_as(client, "patient"), json={"method": "pickup"})
    assert late.status_code == 409 and late.json()["rule_id"] == "RX-08", late.text
