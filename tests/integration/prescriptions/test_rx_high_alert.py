"""A high-alert drug (高警示药品, flagged in the formulary) is approved only after the pharmacist's recorded double
check of patient, drug, dose, frequency and route (RX-06), signed with the review. Through the HTTP API."""

from __future__ import annotations

import base64
import json
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.core.outbox import OutboxEvent
from hospital.prescriptions.models import PrescriptionReview
from tests.helpers import count_rows
from tests.integration.prescriptions.conftest import make_visit, reviewing_pharmacist, rx_body
from tests.integration.prescriptions.helpers import review, written

WARFARIN = "B01AA03-tab-2.5mg"
EVERY_CHECK = ["patient", "drug", "dose", "frequency", "route"]


async def test_a_high_alert_drug_approved_without_the_double_check_is_refused_and_leaves_nothing(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    visit = await make_visit(session, ctx, icd10="I48")
    rx = await written(client, visit, rx_body(
        {"drug_code": WARFARIN, "dose_per_time": "2.5", "times_per_day": 1, "days_supply": 7, "quantity_packs": 1,
         "usage": "口服，每晚一次"}, diagnoses=(("I48", "心房颤动"),)))
    assert any("high-alert" in f["message"] for f in rx["findings"]), rx["findings"]
    acks = [{"finding": i, "reason": "monitoring_arranged"} for i, f in enumerate(rx["findings"])
            if f["severity"] == "warn"]
    li = await reviewing_pharmacist(client)
    before = await count_rows(session, PrescriptionReview, AuditEntry, OutboxEvent)

    for double_checks in ([], [{"drug_code": WARFARIN, "checks": ["dose", "frequency"]}],
                          [{"drug_code": "C08CA01-tab-5mg", "checks": EVERY_CHECK}]):
        refused = await review(client, li, rx, "approve", acknowledgements=acks, double_checks=double_checks)
        assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-06", refused.text
    assert await count_rows(session, PrescriptionReview, AuditEntry, OutboxEvent) == before

    approved = await review(client, li, rx, "approve", acknowledgements=acks,
                            double_checks=[{"drug_code": WARFARIN, "checks": EVERY_CHECK}])

    assert approved.status_code == 200, approved.text
    token = approved.json()["review"]["review_jws"].split(".")[1]
    signed = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert signed["double_checks"] == [{"drug_code": WARFARIN, "checks": EVERY_CHECK}]
    assert approved.json()["review"]["double_checks"] == signed["double_checks"]
