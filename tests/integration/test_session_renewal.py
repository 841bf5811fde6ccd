"""Renewing a token (POST /api/auth/renew): a long video call or review outlives one 15-minute token, but a
session still ends after its maximum length from the password log-in (SEC-01), a locked or suspended account
gets nothing more, a renewal replaces the token it renews,
and a face verification is carried with its own time, never refreshed (FACE-02)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.identity.models import User
from tests.conftest import FakeClock
from tests.helpers import login_as
from tests.integration.visits.journey import doctor_in_session

pytestmark = pytest.mark.requirement("SEC-01", "FACE-02")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def renew(client: AsyncTestClient[Any], headers: dict[str, str]) -> Any:
    return await client.post("/api/auth/renew", headers=headers)


async def test_a_token_is_renewed_keeping_the_log_in_time_until_the_session_maximum(
    client: AsyncTestClient[Any], ctx: HospitalContext, clock: FakeClock, demo: None
) -> None:
    logged_in_at = clock()
    patient = await login_as(client, "patient")
    clock.advance(minutes=13)
    renewed = await renew(client, patient)
    assert renewed.status_code == 200, renewed.text
    token = renewed.json()["access_token"]
    principal = ctx.tokens.decode(token)
    assert int(principal.expires_at.timestamp()) == int((clock() + ctx.tokens.ttl).timestamp())
    assert int(principal.authenticated_at.timestamp()) == int(logged_in_at.timestamp())  # type: ignore[union-attr]
    assert principal.face_verified_at is None
    assert (await client.get("/api/me", headers=bearer(token))).json()["role"] == "patient"
    # Renewing the renewed token does not move the log-in time: at the maximum, the session is over.
    clock.current = logged_in_at + timedelta(seconds=ctx.settings.session_max_seconds)
    refused = await renew(client, bearer(token))
    assert refused.status_code == 401 and refused.json()["rule_id"] == "SEC-01", refused.text


async def test_a_locked_account_gets_no_new_token(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, clock: FakeClock, demo: None
) -> None:
    patient = await login_as(client, "patient")
    user = (await session.execute(select(User).where(User.role == "patient"))).scalars().first()
    assert user is not None
    user.locked_until = clock().replace(year=clock().year + 1)
    await session.commit()
    refused = await renew(client, patient)  # the lock ends the token at once (tests/integration/test_sessions.py)
    assert refused.status_code == 401 and refused.json()["rule_id"] == "SEC-01", refused.text


async def test_the_practice_session_is_carried_with_its_own_time_and_ends_with_a_suspension(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, clock: FakeClock, demo: None
) -> None:
    doctor = await doctor_in_session(client)
    verified_at = ctx.tokens.decode(doctor["Authorization"].split()[1]).face_verified_at
    clock.advance(minutes=10)
    renewed = await renew(client, doctor)
    assert renewed.status_code == 200, renewed.text
    carried = bearer(renewed.json()["access_token"])
    assert ctx.tokens.decode(carried["Authorization"].split()[1]).face_verified_at == verified_at
    assert (await client.get("/api/me/practice-session", headers=carried)).status_code == 200
    # The window runs from the verification, not the renewal (FACE-02): renewing does not stretch it.
    clock.advance(seconds=ctx.settings.practice_window_seconds)
    carried = bearer((await renew(client, carried)).json()["access_token"])
    late = await client.get("/api/me/practice-session", headers=carried)
    assert late.status_code == 403 and late.json()["rule_id"] == "FACE-02"
    clock.current = verified_at  # type: ignore[assignment]
    admin = await login_as(client, "admin")
    staff = (await client.get("/api/staff", headers=admin)).json()
    doctor_id = next(m["staff_id"] for m in staff if m["kind"] == "doctor")
    suspended = await client.post(f"/api/staff/{doctor_id}/suspension", headers=admin, json={"reason": "licence under review"})
    assert suspended.status_code == 200, suspended.text
    after = await renew(client, carried)  # the suspension ended the log-in session too (SEC-01, STAFF-03)
    assert after.status_code == 401 and after.json()["reason"] == "staff.suspended", after.text
    ended = (await session.execute(select(AuditEntry).where(AuditEntry.action == "practice_session.ended"))).scalars().all()
    assert len(ended) == 1 and ended[0].detail["reason"] == "staff.suspended"
