"""Sessions that end (SEC-01): every token names its log-in session, checked on every request; locking, suspending,
logging out, changing the password or renewing ends a token at once, on every endpoint; the role is the account's."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.demo import DEMO_PATIENT, DEMO_USERS
from hospital.identity.models import AuthSession, User
from tests.conftest import FakeClock
from tests.helpers import login, login_as
from tests.integration.visits.journey import doctor_in_session, verified


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused_401(response: Any, reason: str | None = None) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["rule_id"] == "SEC-01", body
    if reason is not None:
        assert body.get("reason") == reason, body


async def test_a_locked_patients_token_is_refused_at_once(client: AsyncTestClient[Any], demo: None) -> None:
    patient = await login_as(client, "patient")
    assert (await client.get("/api/me", headers=patient)).status_code == 200
    for _ in range(5):  # someone fails the password five times: the account locks (SEC-01)
        failed = await client.post("/api/auth/login", json={"username": DEMO_PATIENT.phone, "password": "wrong-1234"})
        assert failed.status_code == 401
    refused_401(await client.get("/api/me", headers=patient))
    refused_401(await client.post("/api/auth/renew", headers=patient))


async def test_a_lock_or_suspension_set_in_the_database_refuses_the_next_request(
    client: AsyncTestClient[Any], session: AsyncSession, clock: FakeClock, demo: None
) -> None:
    patient = await login_as(client, "patient")
    await session.execute(update(User).where(User.role == "patient").values(locked_until=clock().replace(year=2999)))
    await session.commit()
    refused_401(await client.get("/api/me", headers=patient), "locked")
    await session.execute(update(User).where(User.role == "patient").values(locked_until=None, is_active=False))
    await session.commit()
    refused_401(await client.get("/api/me", headers=patient), "suspended")


async def test_a_suspended_doctor_reads_nothing_and_cannot_log_in_again(
    client: AsyncTestClient[Any], ctx: HospitalContext, demo: None
) -> None:
    doctor = await doctor_in_session(client)
    plain = await login_as(client, "doctor")  # a second session, without the face
    assert (await client.get("/api/doctor/queue", headers=doctor)).status_code == 200
    admin = await login_as(client, "admin")
    staff = (await client.get("/api/staff", headers=admin)).json()
    doctor_id = next(m["staff_id"] for m in staff if m["kind"] == "doctor")
    suspended = await client.post(f"/api/staff/{doctor_id}/suspension", headers=admin, json={"reason": "under review"})
    assert suspended.status_code == 200, suspended.text
    # Every route that needs a token refuses both of the doctor's tokens, whatever it would read.
    reads = 0
    for route in client.app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            if "GET" not in handler.http_methods or handler.opt.get("exclude_from_auth"):
                continue
            path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), route.path)
            for headers in (doctor, plain):
                response = await client.get(path, headers=headers)
                assert response.status_code == 401, f"{route.path}: {response.status_code} {response.text[:200]}"
            reads += 1
    assert reads >= 25
    refused_401(await client.post("/api/auth/renew", headers=doctor), "staff.suspended")
    user = next(u for u in DEMO_USERS if u.role == "doctor")
    again = await client.post("/api/auth/login", json={"username": user.username, "password": user.password})
    assert again.status_code == 403 and again.json()["rule_id"] == "STAFF-03", again.text
    reinstated = await client.delete(f"/api/staff/{doctor_id}/suspension", headers=admin)
    assert reinstated.status_code == 200, reinstated.text
    assert (await client.get("/api/doctor/queue", headers=await login_as(client, "doctor"))).status_code == 200


async def test_renewing_replaces_the_token(client: AsyncTestClient[Any], clock: FakeClock, demo: None) -> None:
    patient = await login_as(client, "patient")
    clock.advance(minutes=12)
    renewed = await client.post("/api/auth/renew", headers=patient)
    assert renewed.status_code == 200, renewed.text
    fresh = bearer(renewed.json()["access_token"])
    refused_401(await client.get("/api/me", headers=patient), "replaced")
    refused_401(await client.post("/api/auth/renew", headers=patient), "replaced")  # no fork from the old one
    assert (await client.get("/api/me", headers=fresh)).status_code == 200


async def test_a_face_verification_adds_a_token_to_the_session_and_a_renewal_leaves_one(
    client: AsyncTestClient[Any], demo: None
) -> None:
    plain = await login_as(client, "doctor")
    with_face = await verified(client, plain)
    assert (await client.get("/api/me/practice-session", headers=with_face)).status_code == 200
    assert (await client.get("/api/me", headers=plain)).status_code == 200  # until it expires or is renewed
    renewed = await client.post("/api/auth/renew", headers=with_face)
    assert renewed.status_code == 200, renewed.text
    for old in (plain, with_face):
        refused_401(await client.get("/api/me", headers=old), "replaced")
    assert (await client.get("/api/me/practice-session", headers=bearer(renewed.json()["access_token"]))).status_code == 200
    out = await client.post("/api/auth/logout", headers=bearer(renewed.json()["access_token"]))
    assert out.status_code == 204


async def test_logging_out_ends_the_session_only(client: AsyncTestClient[Any], session: AsyncSession, demo: None) -> None:
    first = await login_as(client, "patient")
    second = await login_as(client, "patient")
    out = await client.post("/api/auth/logout", headers=first)
    assert out.status_code == 204, out.text
    refused_401(await client.get("/api/me", headers=first), "logout")
    refused_401(await client.post("/api/auth/renew", headers=first), "logout")
    refused_401(await client.post("/api/auth/logout", headers=first), "logout")
    assert (await client.get("/api/me", headers=second)).status_code == 200  # the other tab's session goes on
    ended = (await session.execute(select(AuditEntry).where(AuditEntry.action == "session.ended"))).scalars().all()
    assert [e.detail["reason"] for e in ended] == ["logout"]
    rows = (await session.execute(select(AuthSession).where(AuthSession.ended_at.is_not(None)))).scalars().all()  # type: ignore[union-attr]
    assert len(rows) == 1


async def test_a_password_change_ends_every_session(client: AsyncTestClient[Any], demo: None) -> None:
    first = await login_as(client, "patient")
    second = await login_as(client, "patient")
    wrong = await client.post("/api/auth/password", headers=first,
                              json={"current_password": "not-it-123", "new_password": "new-password-2027"})
    assert wrong.status_code == 403 and wrong.json()["rule_id"] == "SEC-01"
    assert (await client.get("/api/me", headers=first)).status_code == 200
    changed = await client.post("/api/auth/password", headers=first,
                                json={"current_password": DEMO_PATIENT.password, "new_password": "new-password-2027"})
    assert changed.status_code == 204, changed.text
    for headers in (first, second):
        refused_401(await client.get("/api/me", headers=headers), "password_changed")
    assert (await client.post("/api/auth/login", json={"username": DEMO_PATIENT.phone,
                                                       "password": DEMO_PATIENT.password})).status_code == 401
    again = await login(client, DEMO_PATIENT.phone, "new-password-2027")
    assert (await client.get("/api/me", headers=again)).status_code == 200


async def test_the_role_is_the_accounts_not_the_tokens(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    admin = await login_as(client, "admin")
    assert (await client.get("/api/staff", headers=admin)).status_code == 200
    await session.execute(update(User).where(User.role == "admin").values(role="patient"))
    await session.commit()
    demoted = await client.get("/api/staff", headers=admin)
    assert demoted.status_code == 403, demoted.text
    # A validly signed token that names no session (made with the key, not by a log-in) is refused.
    user_id = (await session.execute(select(User.id).where(User.role == "patient"))).scalars().first()
    assert user_id is not None
    token, _ = ctx.tokens.issue(user_id, "admin", ctx.now())
    refused_401(await client.get("/api/me", headers=bearer(token)))
