"""Issue 16 over HTTP on both databases: scope and credentials checked at every clinical act, not only at
booking (STAFF-03, INS-02, QA-02): the practice scope bounds the departments, an expired credential stops
prescribing, a department withdrawn after booking stops acceptance, a service stop stops dispensing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.prescriptions.models import Dispensing, Prescription
from hospital.staff.models import StaffMember
from hospital.visits.booking.models import Visit
from tests.faces import face_bytes
from tests.helpers import count_rows, login_as, stop_service
from tests.integration.prescriptions.conftest import rx_body, signing_doctor, write
from tests.integration.prescriptions.helpers import approved, dispense
from tests.integration.visits.journey import accept, book, demo_prior_id, doctor_in_session, schedule_of

SURGEON = {"kind": "doctor", "username": "doctor.li", "initial_password": "li-pass-2026", "real_name": "李医生",
           "id_number": "110105199009093412", "title": "主治医师", "clinical_years": 6, "departments": ["04"],
           "credentials": [{"kind": "physician_qualification", "number": "2012310002"},
                           {"kind": "physician_practice", "number": "1103100010", "valid_until": "2099-12-31"}],
           "practice_category": "临床", "practice_scope": "外科专业",
           "practice_institution": "示范市第一人民医院"}


async def _admit(client: AsyncTestClient[Any], admin: dict[str, str], application: dict[str, Any]) -> Any:
    return await client.post("/api/staff", headers=admin, data={"application": json.dumps(application)},
                             files={"photo": ("photo.jpg", face_bytes("alex1.jpg"), "image/jpeg")})


async def test_a_surgeon_is_neither_admitted_to_nor_assigned_cardiology(client: AsyncTestClient[Any],
                                                                         session: AsyncSession, demo: None) -> None:
    admin = await login_as(client, "admin")
    approved_surgery = await client.put("/api/institution/departments/04", headers=admin, json={
        "name": "外科", "approved": True, "senior_physicians": [
            {"name": "赵主任", "title": "主任医师", "practice_number": "110310000000101"},
            {"name": "钱副主任", "title": "副主任医师", "practice_number": "110310000000102"}]})
    assert approved_surgery.status_code == 200, approved_surgery.text
    before = await count_rows(session, StaffMember, AuditEntry)
    outside = await _admit(client, admin, {**SURGEON, "departments": ["04", "03.04"]})
    assert outside.status_code == 422 and outside.json()["rule_id"] == "STAFF-03", outside.text
    unknown = await _admit(client, admin, {**SURGEON, "practice_scope": "随便什么专业"})
    assert unknown.status_code == 422 and unknown.json()["rule_id"] == "STAFF-03", unknown.text
    undated = await _admit(client, admin, {**SURGEON, "credentials": [
        {"kind": "physician_qualification", "number": "2012310002"},
        {"kind": "physician_practice", "number": "1103100010"}]})  # a practice certificate without an expiry
    assert undated.status_code == 422 and undated.json()["rule_id"] == "STAFF-03", undated.text
    assert await count_rows(session, StaffMember, AuditEntry) == before
    admitted = await _admit(client, admin, SURGEON)
    assert admitted.status_code == 201, admitted.text
    staff_id = admitted.json()["staff_id"]
    before = await count_rows(session, StaffMember, AuditEntry)
    refused = await client.put(f"/api/staff/{staff_id}/departments", headers=admin, json={"departments": ["03.04"]})
    assert refused.status_code == 422 and refused.json()["rule_id"] == "STAFF-03", refused.text
    assert "外科专业" in refused.json()["detail"]
    assert await count_rows(session, StaffMember, AuditEntry) == before
    moved = await client.put(f"/api/staff/{staff_id}/departments", headers=admin, json={"departments": ["04.01"]})
    assert moved.status_code == 200 and moved.json()["departments"] == ["04.01"], moved.text


async def test_a_credential_that_expired_yesterday_refuses_a_prescription(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, visit: Visit
) -> None:
    admin = await login_as(client, "admin")
    doctor_row = (await session.execute(select(StaffMember).where(StaffMember.kind == "doctor"))).scalars().first()
    assert doctor_row is not None
    yesterday = (ctx.today() - timedelta(days=1)).isoformat()
    renewed = await client.put(f"/api/staff/{doctor_row.id}/credentials", headers=admin, json={"credentials": [
        {"kind": "physician_practice", "number": "110310000000001", "valid_until": yesterday}]})
    assert renewed.status_code == 200, renewed.text
    before = await count_rows(session, Prescription, AuditEntry)
    refused = await write(client, await signing_doctor(client), visit, rx_body())
    assert refused.status_code == 403 and refused.json()["rule_id"] == "STAFF-03", refused.text
    assert yesterday in refused.json()["detail"]
    before_after_login = await count_rows(session, Prescription)
    assert before_after_login["prescription"] == before["prescription"]


async def test_a_department_withdrawn_after_booking_refuses_acceptance(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    patient = await login_as(client, "patient")
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text
    doctor = await doctor_in_session(client)
    admin = await login_as(client, "admin")
    for code, name in (("03", "内科"), ("03.04", "心血管内科专业")):
        assert (await client.put(f"/api/institution/departments/{code}", headers=admin,
                                 json={"name": name, "approved": False})).status_code == 200
    opened = await client.get(f"/api/visits/{booked.json()['visit_id']}/prior-diagnosis/document", headers=doctor)
    assert opened.status_code == 200
    before = await count_rows(session, Visit, AuditEntry)
    refused = await accept(client, doctor, booked.json()["visit_id"], read_first=False)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "INS-02", refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert await count_rows(session, Visit, AuditEntry) == before


async def test_dispensing_stops_while_the_service_is_stopped(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, visit: Visit
) -> None:
    rx, pharmacist = await approved(client, visit)
    stopped = await stop_service(client, session, ctx, "药学人员不足，暂停服务")
    assert stopped.status_code == 200 and stopped.json()["stopped"] is True, stopped.text
    before = await count_rows(session, Dispensing, AuditEntry)
    refused = await dispense(client, pharmacist, rx)
    assert refused.status_code == 503 and refused.json()["rule_id"] == "QA-02", refused.text
    assert await count_rows(session, Dispensing, AuditEntry) == before
    admin = await login_as(client, "admin")
    assert (await client.delete("/api/institution/service-stop", headers=admin)).status_code == 200
    assert (await dispense(client, pharmacist, rx)).status_code == 201
