"""A pick-up collected at the pharmacy (RX-08): the pharmacist records who took it (the patient, or a named agent)
and when, once and only after dispensing; audited, reported to the platform as the circulation's end, and shown
to the patient as collected."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.core.audit import AuditEntry
from hospital.core.outbox import OutboxEvent
from hospital.prescriptions.models import Dispensing
from hospital.visits.booking.models import Visit
from tests.helpers import ADDRESS, login_as
from tests.integration.prescriptions.helpers import approved, dispense

pytestmark = pytest.mark.requirement("RX-08")


async def collect(client: AsyncTestClient[Any], pharmacist: dict[str, str], rx: dict[str, Any], **body: Any) -> Any:
    return await client.post(f"/api/prescriptions/{rx['prescription_id']}/collection", headers=pharmacist,
                             json={"collector": "patient", **body})


async def collections(session: AsyncSession) -> tuple[int, int]:
    audits = (await session.execute(select(AuditEntry).where(AuditEntry.action == "dispensing.collected"))).all()
    events = (await session.execute(select(OutboxEvent.payload).where(
        OutboxEvent.event_type == "dispensing.delivery_updated"))).scalars().all()
    await session.rollback()
    return len(audits), len([payload for payload in events if payload.get("status") == "collected"])


async def test_a_pick_up_is_collected_once_after_dispensing_audited_reported_and_shown_to_the_patient(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    rx, pharmacist = await approved(client, visit)
    early = await collect(client, pharmacist, rx)
    assert early.status_code == 409 and early.json()["rule_id"] == "RX-08", early.text  # not dispensed yet
    assert await collections(session) == (0, 0)

    assert (await dispense(client, pharmacist, rx, "own", None)).status_code == 201
    unnamed = await collect(client, pharmacist, rx, collector="agent", agent_name=" ")
    assert unnamed.status_code == 422 and unnamed.json()["field"] == "agent_name", unnamed.text
    done = await collect(client, pharmacist, rx, collector="agent", agent_name="韩梅梅")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "collected" and done.json()["collected_at"]
    step = done.json()["history"][-1]
    assert (step["status"], step["collector"], step["agent_name"], step["by_role"]) == (
        "collected", "agent", "韩梅梅", "pharmacist")
    assert await collections(session) == (1, 1)

    twice = await collect(client, pharmacist, rx)
    assert twice.status_code == 409 and twice.json()["rule_id"] == "RX-08", twice.text
    row = (await session.execute(select(Dispensing))).scalar_one()
    assert row.status == "collected" and row.version == 2
    await session.rollback()
    assert await collections(session) == (1, 1)

    mine = (await client.get("/api/prescriptions", headers=await login_as(client, "patient"))).json()
    assert mine[0]["dispensing"]["status"] == "collected"


async def test_a_delivery_is_not_collected_at_the_counter(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    rx, pharmacist = await approved(client, visit)
    chosen = await client.put(f"/api/prescriptions/{rx['prescription_id']}/fulfilment",
                              headers=await login_as(client, "patient"), json={"method": "delivery", "address": ADDRESS})
    assert chosen.status_code == 200, chosen.text
    assert (await dispense(client, pharmacist, rx)).status_code == 201
    refused = await collect(client, pharmacist, rx)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-08", refused.text
    assert await collections(session) == (0, 0)


async def test_the_pharmacist_reads_each_refusal_in_its_own_chinese_sentence(
    client: AsyncTestClient[Any], visit: Visit
) -> None:
    """Issue 14: not the rule's general sentence but what happened: dispensed twice, collected twice, collected
    before dispensing, each in Chinese (the default language) with its own title."""
    rx, pharmacist = await approved(client, visit)
    zh = {**pharmacist, "Accept-Language": "zh-CN"}
    early = (await collect(client, zh, rx)).json()
    assert (early["title"], early["detail"]) == (
        "处方尚未发药", "这张处方还没有调配发药，请先完成发药，再登记患者取药。")
    assert (await dispense(client, zh, rx, "own", None)).status_code == 201
    again = (await dispense(client, zh, rx, "own", None)).json()
    assert (again["title"], again["rule_id"]) == ("这张处方已发药", "RX-08")
    assert (await collect(client, zh, rx)).status_code == 200
    twice = (await collect(client, zh, rx)).json()
    assert (twice["title"], twice["detail"]) == ("患者已取药", "这张处方的药品已经交付，不能重复登记取药。")
    english = (await collect(client, {**pharmacist, "Accept-Language": "en"}, rx)).json()
    assert english["title"] == "Already collected" and english["detail"].startswith("the drugs of this prescription")


async def test_only_the_pharmacy_records_a_collection(client: AsyncTestClient[Any], visit: Visit) -> None:
    rx, pharmacist = await approved(client, visit)
    assert (await dispense(client, pharmacist, rx)).status_code == 201
    for role in ("patient", "doctor"):
        refused = await collect(client, await login_as(client, role), rx)
        assert refused.status_code == 403, refused.text
