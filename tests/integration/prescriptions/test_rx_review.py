"""The pharmacist's review (RX-06, FACE-02) and the doctor's revision, over HTTP on both databases."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.outbox import OutboxEvent
from hospital.identity.models import User
from hospital.prescriptions.models import Prescription, PrescriptionReview
from hospital.signing.canonical import canonical_json
from hospital.signing.service import hospital_signing
from hospital.visits.booking.models import Visit
from tests.helpers import count_rows, event_payload, login_as
from tests.integration.prescriptions.conftest import (
    amlodipine,
    checked_and_signed,
    reviewing_pharmacist,
    rx_body,
    signing_doctor,
)
from tests.integration.prescriptions.helpers import review, written

pytestmark = pytest.mark.requirement("RX-06", "FACE-02")


async def test_the_pharmacist_approves_with_a_second_signature_over_the_prescription_hash(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, visit: Visit
) -> None:
    rx = await written(client, visit)
    approved = await review(client, await reviewing_pharmacist(client), rx, "approve")
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved" and body["review"]["decision"] == "approve"
    signing = await hospital_signing(session, ctx)
    verified = signing.verifier.verify(body["review"]["review_jws"], crl_or_revoked_serials=None, at=ctx.now())
    assert verified.signer.role == "pharmacist" and verified.payload["decision"] == "approve"
    assert verified.payload["prescription_sha256"] == hashlib.sha256(canonical_json(rx["document"])).hexdigest()
    event = (await session.execute(select(OutboxEvent).where(
        OutboxEvent.event_type == "prescription.approved"))).scalar_one()
    assert "review_jws" not in event.payload and "reasons" not in event.payload  # sealed at rest (REC-03)
    payload = event_payload(event, ctx.settings)
    assert payload["review_jws"] == body["review"]["review_jws"]
    assert isinstance(payload["findings"], list) and payload["payload_sha256"] == body["payload_sha256"]


async def test_the_queue_shows_pending_prescriptions_with_their_findings(client: AsyncTestClient[Any],
                                                                        visit: Visit) -> None:
    # 28 days with a chronic reason: accepted, with a finding for the pharmacist.
    rx = await written(client, visit, rx_body(amlodipine(days_supply=28), long_prescription_reason="病情稳定，长期用药",
                                              long_prescription_code="stable_chronic_disease"))
    pharmacist = await reviewing_pharmacist(client)
    queue = (await client.get("/api/reviews/queue", headers=pharmacist)).json()
    assert [q["prescription_id"] for q in queue] == [rx["prescription_id"]]
    assert queue[0]["findings"] and {"rule_id", "severity", "category", "message"} <= set(queue[0]["findings"][0])
    assert (await review(client, pharmacist, rx, "approve")).status_code == 200
    assert (await client.get("/api/reviews/queue", headers=pharmacist)).json() == []


async def test_a_rejection_needs_reasons_and_goes_back_to_the_doctor(client: AsyncTestClient[Any],
                                                                    session: AsyncSession, visit: Visit) -> None:
    rx = await written(client, visit)
    pharmacist = await reviewing_pharmacist(client)
    before = await count_rows(session, PrescriptionReview, OutboxEvent)
    for refused in (await review(client, pharmacist, rx, "reject"),  # no reason at all
                    await review(client, pharmacist, rx, "reject", ["剂量偏低，建议评估后调整"]),  # a note, no code
                    await review(client, pharmacist, rx, "reject", ["剂量偏低"], reason_codes=["too_low"])):
        assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-06", refused.text
    assert await count_rows(session, PrescriptionReview, OutboxEvent) == before
    rejected = await review(client, pharmacist, rx, "reject", ["剂量偏低，建议评估后调整"],
                            reason_codes=["us_usage_dose"])
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    doctor_view = (await client.get(f"/api/prescriptions/{rx['prescription_id']}",
                                    headers=await login_as(client, "doctor"))).json()
    assert doctor_view["review"]["reasons"] == ["用法、用量不适宜（us_usage_dose）", "剂量偏低，建议评估后调整"]
    patient_view = (await client.get(f"/api/prescriptions/{rx['prescription_id']}",
                                     headers=await login_as(client, "patient"))).json()
    assert patient_view["status"] == "rejected" and "reasons" not in patient_view["review"]
    assert "findings" not in patient_view and "doctor_jws" not in patient_view
    assert len((await session.execute(select(OutboxEvent).where(
        OutboxEvent.event_type == "prescription.rejected"))).scalars().all()) == 1


async def test_the_doctor_revises_a_rejected_prescription_as_a_new_version_keeping_the_old(
    client: AsyncTestClient[Any], visit: Visit
) -> None:
    rx = await written(client, visit)
    pharmacist = await reviewing_pharmacist(client)
    assert (await review(client, pharmacist, rx, "reject", ["用法不清"], reason_codes=["ns_usage_vague"])).status_code == 200
    doctor = await signing_doctor(client)
    # RX-03: a revision is written under the same rules: an item without its route is refused, nothing written
    no_route = await checked_and_signed(client, doctor, f"/api/prescriptions/{rx['prescription_id']}/revisions",
                                        rx_body(amlodipine(usage="")))
    assert no_route.status_code == 422 and no_route.json()["rule_id"] == "RX-03", no_route.text
    revised = await checked_and_signed(client, doctor, f"/api/prescriptions/{rx['prescription_id']}/revisions",
                                       rx_body(amlodipine(usage="口服，每日早晨一次，每次一片")))
    assert revised.status_code == 201, revised.text
    new = revised.json()
    assert new["revision"] == 2 and new["supersedes_id"] == rx["prescription_id"]
    assert new["document"]["supersedes"] == rx["prescription_number"] and new["status"] == "pending_review"
    old = (await client.get(f"/api/prescriptions/{rx['prescription_id']}", headers=doctor)).json()
    assert old["status"] == "rejected" and old["superseded_by_id"] == new["prescription_id"]
    again = await client.post(f"/api/prescriptions/{rx['prescription_id']}/revisions", headers=doctor, json=rx_body())
    assert again.status_code == 409 and again.json()["rule_id"] == "RX-06"
    pending = await client.post(f"/api/prescriptions/{new['prescription_id']}/revisions", headers=doctor,
                                json=rx_body())
    assert pending.status_code == 409 and pending.json()["current_state"] == "pending_review"


async def test_a_doctor_cannot_review(client: AsyncTestClient[Any], session: AsyncSession, visit: Visit) -> None:
    rx = await written(client, visit)
    before = await count_rows(session, PrescriptionReview)
    refused = await review(client, await signing_doctor(client), rx, "approve")
    assert refused.status_code == 403
    assert await count_rows(session, PrescriptionReview) == before


async def test_a_pharmacist_cannot_approve_their_own_prescription(client: AsyncTestClient[Any],
                                                                 session: AsyncSession, visit: Visit) -> None:
    rx = await written(client, visit)
    pharmacist_id = (await session.execute(select(User.id).where(User.role == "pharmacist"))).scalar_one()
    stored = await session.get(Prescription, uuid.UUID(rx["prescription_id"]))
    assert stored is not None
    stored.doctor_user_id = pharmacist_id  # as if the reviewer had written it
    await session.commit()
    refused = await review(client, await reviewing_pharmacist(client), rx, "approve")
    assert refused.status_code == 403 and refused.json()["rule_id"] == "RX-06"
    assert await count_rows(session, PrescriptionReview) == {"prescription_review": 0}


async def test_a_pharmacist_without_a_practice_session_cannot_review(client: AsyncTestClient[Any],
                                                                    visit: Visit) -> None:
    rx = await written(client, visit)
    refused = await review(client, await login_as(client, "pharmacist"), rx, "approve")
    assert refused.status_code == 403 and refused.json()["rule_id"] == "FACE-02"


async def test_a_decided_prescription_is_not_decided_again(client: AsyncTestClient[Any], visit: Visit) -> None:
    rx = await written(client, visit)
    pharmacist = await reviewing_pharmacist(client)
    assert (await review(client, pharmacist, rx, "approve")).status_code == 200
    again = await review(client, pharmacist, rx, "reject", ["改主意"], reason_codes=["us_other"])
    assert again.status_code == 409 and again.json()["current_state"] == "approved"


async def test_a_review_of_a_version_that_changed_meanwhile_is_refused(client: AsyncTestClient[Any],
                                                                      visit: Visit) -> None:
    rx = await written(client, visit)
    stale = await review(client, await reviewing_pharmacist(client), rx, "approve", version=rx["version"] + 1)
    assert stale.status_code == 409 and stale.json()["rule_id"] == "RX-06"


async def test_a_stored_document_that_is_not_what_the_doctor_signed_is_never_approved(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    rx = await written(client, visit)
    stored = await session.get(Prescription, uuid.UUID(rx["prescription_id"]))
    assert stored is not None
    stored.payload_sha256 = "0" * 64
    await session.commit()
    refused = await review(client, await reviewing_pharmacist(client), rx, "approve")
    assert refused.status_code == 500 and refused.json()["rule_id"] == "RX-05"
    assert await count_rows(session, PrescriptionReview) == {"prescription_review": 0}
