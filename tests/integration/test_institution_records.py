"""Issue 16: the institution's own records (INS-01) are validated by their formats, and stopping the whole
service needs a coded reason and a second administrator's confirmation, audited and reported (QA-02)."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.core.outbox import OutboxEvent
from hospital.institution.models import Licence, ServiceStop
from tests.helpers import count_rows, login_as, second_admin

LICENCE = {"licence_number": "PDY0002-310115-NEW1", "institution_name": "示范市第一人民医院",
           "internet_hospital_name": "示范市第一人民医院互联网医院", "issuer": "示范市卫生健康委员会",
           "valid_from": "2026-01-01", "valid_until": "2030-12-31", "service_modes": ["门诊", "互联网诊疗"],
           "address": "示范市浦东新区示范路1号", "legal_representative": "张院长"}


async def test_licence_fields_with_control_characters_emoji_or_wrong_formats_are_refused(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    admin = await login_as(client, "admin")
    before = await count_rows(session, Licence, AuditEntry, OutboxEvent)
    nul = await client.post("/api/institution/licence", headers=admin,
                            json={**LICENCE, "licence_number": "PDY0002\x00310115"})
    assert nul.status_code == 400 and "NUL" in nul.json()["detail"], nul.text  # the JSON body guard, before INS-01
    for changes in ({"licence_number": "PDY0002\x01310115"}, {"licence_number": "PDY0002-😀"},
                    {"licence_number": "pdy 2"}, {"institution_name": "示范医院\u202e"},
                    {"internet_hospital_name": "示范医院🏥互联网医院"}, {"internet_hospital_name": "示范市第一人民医院"},
                    {"issuer": "示范市卫健委\n"}, {"valid_until": "2025-12-31"}, {"service_modes": []}):
        refused = await client.post("/api/institution/licence", headers=admin, json={**LICENCE, **changes})
        assert refused.status_code == 422, (changes, refused.text)
        assert refused.json()["rule_id"] == "INS-01", (changes, refused.text)
    assert await count_rows(session, Licence, AuditEntry, OutboxEvent) == before
    recorded = await client.post("/api/institution/licence", headers=admin, json=LICENCE)
    assert recorded.status_code == 201, recorded.text


async def test_a_whole_service_stop_needs_a_coded_reason_and_a_second_administrator(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    admin = await login_as(client, "admin")
    before = await count_rows(session, ServiceStop, AuditEntry, OutboxEvent)
    for body in ({"reason_code": "whim", "reason": "因为想停"}, {"reason_code": "staffing", "reason": "0"},
                 {"reason_code": "staffing", "reason": "0000"}):
        refused = await client.post("/api/institution/service-stop", headers=admin, json=body)
        assert refused.status_code == 422 and refused.json()["rule_id"] == "QA-02", (body, refused.text)
    assert await count_rows(session, ServiceStop, AuditEntry, OutboxEvent) == before
    asked = await client.post("/api/institution/service-stop", headers=admin,
                              json={"reason_code": "staffing", "reason": "审方药师不足，暂停在线诊疗"})
    assert asked.status_code == 201 and asked.json()["pending_confirmation"] is True, asked.text
    assert (await client.get("/api/institution/")).json()["service_stopped"] is False  # not yet in force
    confirm = f"/api/institution/service-stop/{asked.json()['stop_id']}/confirmation"
    alone = await client.post(confirm, headers=admin)
    assert alone.status_code == 422 and alone.json()["rule_id"] == "QA-02", alone.text
    events = (await session.execute(select(OutboxEvent).where(
        OutboxEvent.event_type == "institution.service_stopped"))).scalars().all()
    assert events == []
    await session.rollback()
    confirmed = await client.post(confirm, headers=await second_admin(client, session, ctx))
    assert confirmed.status_code == 200 and confirmed.json()["stopped"] is True, confirmed.text
    public = (await client.get("/api/institution/")).json()
    assert public["service_stopped"] is True and public["service_stop_reason_code"] == "staffing"
    actions = (await session.execute(select(AuditEntry.action).where(
        AuditEntry.rule_id == "QA-02"))).scalars().all()
    assert actions == ["institution.service_stop_requested", "institution.service_stopped"]
    reported = (await session.execute(select(OutboxEvent).where(
        OutboxEvent.event_type == "institution.service_stopped"))).scalars().all()
    assert len(reported) == 1


async def test_a_department_or_a_clinician_is_stopped_by_one_administrator(
    client: AsyncTestClient[Any], demo: None
) -> None:
    admin = await login_as(client, "admin")
    withdrawn = await client.put("/api/institution/departments/03.07", headers=admin,
                                 json={"name": "内分泌专业", "approved": False})
    assert withdrawn.status_code == 200 and withdrawn.json()["approved"] is False
    doctor = next(m for m in (await client.get("/api/staff/", headers=admin)).json() if m["kind"] == "doctor")
    suspended = await client.post(f"/api/staff/{doctor['staff_id']}/suspension", headers=admin,
                                  json={"reason": "执业证书核查中"})
    assert suspended.status_code == 200 and suspended.json()["suspended"] is True


async def test_opening_a_department_needs_a_full_and_an_associate_senior_physician(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    from hospital.institution.models import Department

    admin = await login_as(client, "admin")
    chief = {"name": "赵主任", "title": "主任医师", "practice_number": "110310000000101"}
    associate = {"name": "钱副主任", "title": "副主任医师", "practice_number": "110310000000102"}
    before = await count_rows(session, Department, AuditEntry, OutboxEvent)
    for physicians in (None, [chief], [associate], [chief, {**associate, "practice_number": "12345"}],
                       [chief, {**associate, "title": "主治医师"}]):
        refused = await client.put("/api/institution/departments/04", headers=admin, json={
            "name": "外科", "approved": True, **({"senior_physicians": physicians} if physicians else {})})
        assert refused.status_code == 422 and refused.json()["rule_id"] == "INS-02", (physicians, refused.text)
    assert await count_rows(session, Department, AuditEntry, OutboxEvent) == before
    opened = await client.put("/api/institution/departments/04", headers=admin, json={
        "name": "外科", "approved": True, "senior_physicians": [chief, associate]})
    assert opened.status_code == 200 and opened.json()["approved"] is True, opened.text
    row = (await session.execute(select(Department).where(Department.code == "04"))).scalar_one()
    assert [p["title"] for p in row.senior_physicians or []] == ["主任医师", "副主任医师"]
    renamed = await client.put("/api/institution/departments/04", headers=admin, json={"name": "外科（普外）"})
    assert renamed.status_code == 200  # an open department is renamed without new evidence
