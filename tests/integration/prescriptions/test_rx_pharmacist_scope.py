"""The pharmacist's queue (RX-06, RX-07 no 统方): pharmacists see the queues and what they decided or dispensed
themselves, nothing else (404); every read is audited naming the prescriptions; approving a prescription with
warnings acknowledges each with a coded reason, signed with the review. Through the HTTP API, both databases."""

from __future__ import annotations

import base64
import json
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.core.audit import AuditEntry
from hospital.prescriptions.models import PrescriptionReview
from hospital.visits.booking.models import Visit
from tests.helpers import count_rows
from tests.integration.prescriptions.conftest import (
    amlodipine,
    reviewing_pharmacist,
    rx_body,
    second_pharmacist,
)
from tests.integration.prescriptions.helpers import dispense, review, written


async def test_a_pharmacist_reads_the_queue_and_their_own_decisions_and_nothing_else(
    client: AsyncTestClient[Any], visit: Visit
) -> None:
    li = await reviewing_pharmacist(client)
    dispensed = await written(client, visit)
    assert (await review(client, li, dispensed, "approve")).status_code == 200
    assert (await dispense(client, li, dispensed)).status_code == 201
    rejected = await written(client, visit, rx_body(amlodipine(usage="口服，每日晚上")))
    assert (await review(client, li, rejected, "reject", ["用法与病历不符"], reason_codes=["us_usage_dose"])).status_code == 200
    pending = await written(client, visit, rx_body(amlodipine(usage="口服，早餐后")))
    zhao = await second_pharmacist(client)

    for rx in (dispensed, rejected):  # li's decisions: li reads them, zhao does not
        assert (await client.get(f"/api/prescriptions/{rx['prescription_id']}", headers=li)).status_code == 200
        assert (await client.get(f"/api/prescriptions/{rx['prescription_id']}", headers=zhao)).status_code == 404
        assert (await client.get(f"/api/prescriptions/{rx['prescription_id']}/export", headers=zhao)
                ).status_code == 404
    assert (await client.get(f"/api/prescriptions/{pending['prescription_id']}", headers=zhao)).status_code == 200
    seen_by_zhao = {rx["prescription_id"] for rx in (await client.get("/api/prescriptions", headers=zhao)).json()}
    seen_by_li = {rx["prescription_id"] for rx in (await client.get("/api/prescriptions", headers=li)).json()}
    assert seen_by_zhao == {pending["prescription_id"]}
    assert seen_by_li == {dispensed["prescription_id"], rejected["prescription_id"], pending["prescription_id"]}
    of_visit = await client.get(f"/api/visits/{visit.id}/prescriptions", headers=zhao)
    assert {rx["prescription_id"] for rx in of_visit.json()} == {pending["prescription_id"]}


async def test_every_read_of_prescriptions_is_audited_naming_them(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    rx = await written(client, visit)
    li = await reviewing_pharmacist(client)

    queue = await client.get("/api/reviews/queue", headers=li)
    one = await client.get(f"/api/prescriptions/{rx['prescription_id']}", headers=li)

    assert queue.status_code == 200 and one.status_code == 200
    entries = (await session.execute(select(AuditEntry).where(AuditEntry.actor_role == "pharmacist").where(
        AuditEntry.action.in_(["prescription.read", "prescription.list_read"])))).scalars().all()  # type: ignore[attr-defined]
    assert [(e.action, e.detail["prescription_ids"]) for e in entries] == [
        ("prescription.list_read", [rx["prescription_id"]]), ("prescription.read", [rx["prescription_id"]])]
    assert entries[0].detail["read"] == "review_queue" and entries[1].subject_id == rx["prescription_id"]
    before = await count_rows(session, AuditEntry)
    assert (await client.get(f"/api/prescriptions/{visit.id}", headers=li)).status_code == 404
    assert await count_rows(session, AuditEntry) == before  # nothing read, nothing recorded


def _signed_payload(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))  # type: ignore[no-any-return]


async def test_approving_a_warning_needs_its_coded_acknowledgement_signed_with_the_review(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    # one pack more than 7 days need, with its coded reason: a warning the pharmacist answers
    rx = await written(client, visit, rx_body(amlodipine(quantity_packs=2, extra_quantity_code="dose_titration")))
    warnings = [i for i, f in enumerate(rx["findings"]) if f["severity"] == "warn"]
    assert warnings, rx["findings"]
    li = await reviewing_pharmacist(client)
    before = await count_rows(session, PrescriptionReview, AuditEntry)
    for acknowledgements in ([], [{"finding": warnings[0], "reason": "looks fine"}],
                             [{"finding": 99, "reason": "quantity_justified"}]):
        refused = await review(client, li, rx, "approve", acknowledgements=acknowledgements)
        assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-06", refused.text
    assert await count_rows(session, PrescriptionReview, AuditEntry) == before

    acks = [{"finding": i, "reason": "quantity_justified"} for i in warnings]
    approved = await review(client, li, rx, "approve", acknowledgements=acks)

    assert approved.status_code == 200, approved.text
    signed = _signed_payload(approved.json()["review"]["review_jws"])
    assert [(a["finding"], a["reason"]) for a in signed["acknowledgements"]] == [(i, "quantity_justified")
                                                                                 for i in warnings]
    assert signed["acknowledgements"][0]["rule_id"] == rx["findings"][warnings[0]]["rule_id"]
    assert approved.json()["review"]["acknowledgements"] == signed["acknowledgements"]


async def test_a_rejection_needs_no_acknowledgement(client: AsyncTestClient[Any], visit: Visit) -> None:
    rx = await written(client, visit, rx_body(amlodipine(quantity_packs=2, extra_quantity_code="dose_titration")))
    rejected = await review(client, await reviewing_pharmacist(client), rx, "reject", ["多开一盒，请核对"],
                            reason_codes=["us_usage_dose"])
    assert rejected.status_code == 200, rejected.text
