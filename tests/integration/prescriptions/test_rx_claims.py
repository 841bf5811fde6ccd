"""The pharmacist's queue is claimed one prescription at a time (RX-06): a claimed prescription leaves every
other pharmacist's queue and scope (404) until it is decided, released, or the claim lapses after
`Settings.rx_claim_minutes` on the hospital's clock; a lapse never approves anything. Through the HTTP API."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.config import Settings
from hospital.core.audit import AuditEntry
from hospital.prescriptions.models import Prescription, PrescriptionReview
from hospital.visits.booking.models import Visit
from tests.conftest import FakeClock
from tests.helpers import count_rows
from tests.integration.prescriptions.conftest import amlodipine, reviewing_pharmacist, rx_body, second_pharmacist
from tests.integration.prescriptions.helpers import review, written

CLAIM_MINUTES = 5  # shorter than a token's life, so the same log-ins outlive the lapse


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path / "data", database_url=db_url, login_rate_per_minute=1000,
                    rx_claim_minutes=CLAIM_MINUTES)


def _queue_ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {rx["prescription_id"] for rx in response.json()}


async def test_a_claimed_prescription_is_invisible_to_another_pharmacist_until_the_claim_lapses(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit, clock: FakeClock
) -> None:
    rx = await written(client, visit)
    other = await written(client, visit, rx_body(amlodipine(usage="口服，早餐后")))
    li, zhao = await reviewing_pharmacist(client), await second_pharmacist(client)
    path = f"/api/prescriptions/{rx['prescription_id']}"

    claimed = await client.post(f"{path}/claim", headers=li)

    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["claim"]["claimed_by_me"] is True
    assert _queue_ids(await client.get("/api/reviews/queue", headers=zhao)) == {other["prescription_id"]}
    assert (await client.get(path, headers=zhao)).status_code == 404
    before = await count_rows(session, PrescriptionReview, AuditEntry)
    taken = await client.post(f"{path}/claim", headers=zhao)
    decided = await review(client, zhao, rx, "approve")
    assert taken.status_code == 409 and taken.json()["rule_id"] == "RX-06", taken.text
    assert decided.status_code == 409 and decided.json()["rule_id"] == "RX-06", decided.text
    second = await client.post(f"/api/prescriptions/{other['prescription_id']}/claim", headers=li)
    assert second.status_code == 422 and second.json()["rule_id"] == "RX-06", second.text  # one at a time
    assert await count_rows(session, PrescriptionReview, AuditEntry) == before

    clock.advance(minutes=CLAIM_MINUTES + 1)  # li leaves it undecided

    assert rx["prescription_id"] in _queue_ids(await client.get("/api/reviews/queue", headers=zhao))
    stored = await session.get(Prescription, uuid.UUID(rx["prescription_id"]), populate_existing=True)
    assert stored is not None and stored.status == "pending_review"  # the lapse decided nothing
    assert (await client.post(f"{path}/claim", headers=zhao)).status_code == 200
    late = await review(client, li, rx, "approve")
    assert late.status_code == 409, late.text
    assert rx["prescription_id"] not in _queue_ids(await client.get("/api/reviews/queue", headers=li))

    assert (await client.post(f"{path}/release", headers=zhao)).status_code == 204
    assert rx["prescription_id"] in _queue_ids(await client.get("/api/reviews/queue", headers=li))
    approved = await review(client, li, rx, "approve")
    assert approved.status_code == 200, approved.text


async def test_claims_and_releases_are_audited(client: AsyncTestClient[Any], session: AsyncSession,
                                               visit: Visit) -> None:
    rx = await written(client, visit)
    li = await reviewing_pharmacist(client)
    path = f"/api/prescriptions/{rx['prescription_id']}"
    assert (await client.post(f"{path}/claim", headers=li)).status_code == 200
    assert (await client.post(f"{path}/release", headers=li)).status_code == 204
    nothing_held = await client.post(f"{path}/release", headers=li)
    assert nothing_held.status_code == 409, nothing_held.text
    actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.subject_id == rx["prescription_id"])
                                     .where(col(AuditEntry.action).in_(["prescription.claimed",
                                                                         "prescription.released"])))).scalars().all()
    assert sorted(actions) == ["prescription.claimed", "prescription.released"]
