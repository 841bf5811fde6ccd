"""Issue 21: a participant's token runs out in the middle of a video visit (aiortc clients, through the hospital's
endpoints, on both databases). The page renews it before it expires (SEC-01, `POST /api/auth/renew`, as the call
page does three minutes ahead); the call does not end: the media keeps flowing past the old token's expiry, the old
token is refused from then on, and the renewed one rejoins the same call after a dropped network (the doctor's
renewed token still carries the face verification, so the rejoin keeps the practice session, FACE-02)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from call_steps import accepted_video_visit, join_call
from jose import jwt
from litestar.testing import AsyncTestClient
from portal_ws import PortalWebSocket
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from video_browsers import DOCTOR_LUMA, PATIENT_LUMA, wait_until

from hospital.core.audit import AuditEntry
from tests.conftest import FakeClock

pytestmark = [pytest.mark.asyncio, pytest.mark.requirement("SEC-01")]

TOKEN_TTL_S = 45  # long enough for the set-up on a loaded machine, short enough to wait for it to run out
RETURNING_LUMA = 160  # the patient's second browser, after the dropped connection


def expiry_of(headers: dict[str, str]) -> float:
    return float(jwt.get_unverified_claims(headers["Authorization"][7:])["exp"])


async def renewed(client: AsyncTestClient[Any], headers: dict[str, str]) -> dict[str, str]:
    response = await client.post("/api/auth/renew", headers=headers)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def joins_of(session: AsyncSession, visit_id: str) -> list[dict[str, Any]]:
    query = (select(AuditEntry.detail).where(AuditEntry.subject_id == visit_id, AuditEntry.action == "video.joined")
             .order_by(col(AuditEntry.seq)))
    details = [dict(detail or {}) for detail in (await session.execute(query)).scalars()]
    await session.rollback()
    return details


@pytest.mark.parametrize("call_settings", [{"token_ttl_seconds": TOKEN_TTL_S}], ids=["ttl-45s"])
async def test_a_token_renewed_mid_call_outlives_the_old_one_without_ending_the_call(
    client: AsyncTestClient[Any], session: AsyncSession, clock: FakeClock, browsers: Any, demo: None,
) -> None:
    patient_headers, doctor_headers, visit_id = await accepted_video_visit(client)
    patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)
    assert (await join_call(client, patient, visit_id, patient_headers)).status_code == 200
    assert (await join_call(client, doctor, visit_id, doctor_headers)).status_code == 200
    await wait_until(lambda: len(patient.received) >= 5 and len(doctor.received) >= 5, timeout=20)
    call = f"/api/visits/{visit_id}/call"

    # Both pages renew while the call runs; the doctor's renewed token keeps the face verification (FACE-02).
    clock.current = datetime.now(UTC)  # the hospital's clock has followed the call (tokens issue from it)
    patient_new, doctor_new = await renewed(client, patient_headers), await renewed(client, doctor_headers)
    claims = jwt.get_unverified_claims(doctor_new["Authorization"][7:])
    assert claims["face_verified_at"] == jwt.get_unverified_claims(doctor_headers["Authorization"][7:])[
        "face_verified_at"]
    assert (await client.get(call, headers=patient_headers)).status_code == 401  # replaced at once

    # The old tokens run out (real time: the token's own `exp`); the call goes on. The pages keep renewing meanwhile
    # (a third of the lifetime here), so the tokens in use never run out with them: renewed only once, they would
    # outlive the old ones by no more than the set-up took, a few seconds on a loaded machine.
    expired = max(expiry_of(patient_headers), expiry_of(doctor_headers)) + 1.0
    while time.time() < expired:
        await asyncio.sleep(min(TOKEN_TTL_S / 3, max(0.0, expired - time.time())))
        clock.current = datetime.now(UTC)
        patient_new, doctor_new = await renewed(client, patient_new), await renewed(client, doctor_new)
    moment = time.monotonic()
    await wait_until(lambda: len(patient.frames_since(moment)) >= 5 and len(doctor.frames_since(moment)) >= 5,
                     timeout=20)
    for old in (patient_headers, doctor_headers):
        refused = await client.get(call, headers=old)
        assert refused.status_code == 401, refused.text
    status = await client.get(call, headers=patient_new)
    assert status.status_code == 200, status.text
    assert status.json()["state"] == "in_progress" and status.json()["connected"] == ["doctor", "patient"]
    with PortalWebSocket(client, f"{call}/events", f"token={patient_new['Authorization'][7:]}") as page:
        assert (await page.next_of("state"))["state"] == "in_progress"

    # The patient's network drops; the page joins again with the renewed token, into the same call.
    clock.current = datetime.now(UTC)
    patient_new, doctor_new = await renewed(client, patient_new), await renewed(client, doctor_new)
    returning = browsers(RETURNING_LUMA)
    assert (await join_call(client, returning, visit_id, patient_new)).status_code == 200
    moment = time.monotonic()
    await wait_until(lambda: len(returning.frames_since(moment)) >= 5, timeout=20)
    await wait_until(lambda: any(abs(luma - RETURNING_LUMA) < 25 for _, luma, _ in doctor.frames_since(moment)),
                     timeout=20)
    # The doctor's network drops too: the renewed token, which carried the face verification, rejoins (a doctor
    # joins only inside a practice session, FACE-02).
    doctor_again = browsers(DOCTOR_LUMA)
    assert (await join_call(client, doctor_again, visit_id, doctor_new)).status_code == 200
    doctor_newer = await renewed(client, doctor_new)  # the page keeps renewing: on a loaded machine 45 s pass
    moment = time.monotonic()
    await wait_until(lambda: len(doctor_again.frames_since(moment)) >= 5, timeout=20)
    joins = await joins_of(session, visit_id)
    assert [j["role"] for j in joins] == ["patient", "doctor", "patient", "doctor"], joins
    assert [j["rejoined"] for j in joins] == [False, False, True, True]
    status = await client.get(call, headers=doctor_newer)
    assert status.json()["state"] == "in_progress" and status.json()["connected"] == ["doctor", "patient"]
