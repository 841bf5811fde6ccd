"""Small helpers for tests that drive the HTTP API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.config import Settings
from hospital.core.clock import local_date
from hospital.core.crypto import FieldCipher
from hospital.core.outbox import OutboxEvent, open_payload
from hospital.demo import DEMO_PATIENT, DEMO_USERS

__all__ = ["ADDRESS", "choose_delivery", "count_rows", "event_payload",
           "hospital_today", "login", "login_as", "past_the_audit_trigger",
           "second_admin", "stop_service"]


def hospital_today() -> date:
    """Today as the hospital sees it (China's calendar day), never the machine's local date: between 16:00
    and 24:00 UTC `date.today()` on a UTC machine is a day behind (hospital.core.clock)."""
    return local_date(datetime.now(UTC))


async def login(client: AsyncTestClient[Any], username: str, password: str) -> dict[str, str]:
    response = await client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def login_as(client: AsyncTestClient[Any], role: str) -> dict[str, str]:
    """Log in as the demo user of `role` (admin, doctor, pharmacist, patient)."""
    if role == "patient":
        return await login(client, DEMO_PATIENT.phone, DEMO_PATIENT.password)
    user = next(u for u in DEMO_USERS if u.role == role)
    return await login(client, user.username, user.password)


async def count_rows(session: AsyncSession, *tables: Any) -> dict[str, int]:
    counts = {}
    for table in tables:
        counts[table.__tablename__] = (await session.execute(select(func.count()).select_from(table))).scalar_one()
    await session.rollback()
    return counts


def event_payload(event: OutboxEvent | dict[str, Any], settings: Settings) -> dict[str, Any]:
    """An outbox event's whole payload, its sealed part opened with the field key (REC-03)."""
    payload = event.payload if isinstance(event, OutboxEvent) else event
    return open_payload(payload or {}, FieldCipher(settings.field_key))


async def second_admin(client: AsyncTestClient[Any], session: AsyncSession, ctx: Any) -> dict[str, str]:
    """A second administrator (the demo has one), logged in: a whole-service stop needs two (QA-02)."""
    from hospital.identity.service import create_user

    await create_user(session, ctx, username="admin.two", password="admin-two-pass-2026", role="admin",
                      display_name="第二管理员")
    await session.commit()
    return await login(client, "admin.two", "admin-two-pass-2026")


async def stop_service(client: AsyncTestClient[Any], session: AsyncSession, ctx: Any, reason: str,
                       reason_code: str = "staffing") -> Any:
    """Stop the whole service as QA-02 asks: the demo administrator asks, a second one confirms."""
    asked = await client.post("/api/institution/service-stop", headers=await login_as(client, "admin"),
                              json={"reason_code": reason_code, "reason": reason})
    assert asked.status_code == 201, asked.text
    return await client.post(f"/api/institution/service-stop/{asked.json()['stop_id']}/confirmation",
                             headers=await second_admin(client, session, ctx))


async def past_the_audit_trigger(session: AsyncSession) -> None:
    """Act as an attacker who owns the database server: on PostgreSQL switch the append-only trigger of audit_entry
    off for this transaction (a superuser can; the application's statements cannot get past it). SQLite has none."""
    from sqlalchemy import text

    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SET LOCAL session_replication_role = replica"))


async def give_biometric_consent(client: AsyncTestClient[Any], headers: dict[str, str]) -> dict[str, Any]:
    """The admitted clinician's own consent to the face template, in their session (FACE-01)."""
    text = (await client.get("/api/me/biometric-consent", headers=headers)).json()
    given = await client.post("/api/me/biometric-consent", headers=headers,
                              json={"version": text["version"], "text_sha256": text["text_sha256"]})
    assert given.status_code == 201, given.text
    return given.json()  # type: ignore[no-any-return]


ADDRESS = {"province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园路1号2栋301室",
           "recipient": "张三", "mobile": "13800138000", "postcode": "518057"}


async def choose_delivery(client: AsyncTestClient[Any], prescription_id: str,
                          address: dict[str, str] | None = None) -> Any:
    """The demo patient asks for delivery of their prescription to `address` (RX-08: else it is a pick-up)."""
    return await client.put(f"/api/prescriptions/{prescription_id}/fulfilment",
                            headers=await login_as(client, "patient"),
                            json={"method": "delivery", "address": address or ADDRESS})
