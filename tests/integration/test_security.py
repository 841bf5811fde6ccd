"""SEC-02 over HTTP and the services, on both databases: leaks and tampering are detected once, and the emergency
procedure (contain → report → close) is enforced, audited and in the outbox with its narrative sealed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.cli import main
from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.core.audit import Actor, AuditEntry, append_audit, verify_chain
from hospital.core.blobs import Blob
from hospital.core.errors import AccessRefused
from hospital.core.outbox import OutboxEvent
from hospital.demo import DEMO_USERS
from hospital.identity.models import User
from hospital.identity.service import login_hash
from hospital.patients.models import Patient
from hospital.security.detection.jobs import SecurityScans
from hospital.security.detection.service import PATIENT_READS, READ_ACTIONS
from hospital.security.incidents.models import SecurityIncident, SecurityIncidentStep
from hospital.staff.models import StaffMember
from hospital.staff.service import require_can_practise
from hospital.visits.intake.models import PriorDiagnosisContent, sealed_prior
from tests.conftest import REPO, FakeClock
from tests.helpers import count_rows, event_payload, login, login_as, past_the_audit_trigger

pytestmark = pytest.mark.requirement("SEC-02")

API = "/api/admin/security"
LEAK = {"kind": "data_leak", "severity": "high", "leak": "confirmed", "personal_information": True,
        "summary": "一份含患者姓名和诊断的导出表格出现在外部网盘", "affected_subjects": 120}


async def user_of(session: AsyncSession, role: str) -> User:
    user = (await session.execute(select(User).where(User.role == role).order_by(User.created_at))).scalars().first()
    assert user is not None
    session.expunge(user)  # keeps its loaded values past the rollback that ends this read
    await session.rollback()
    return user


async def make_patients(session: AsyncSession, ctx: HospitalContext, count: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """`count` patients (user, real-name record, one prior diagnosis each), written directly: these tests are about
    who reads them. Patient i logs in as 1390000{i:04d} with password patient-pass-2026. Returns (prior diagnosis
    id, patient's user id) pairs."""
    from hospital.identity.passwords import hash_password

    password = hash_password("patient-pass-2026")
    document = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    session.add(Blob(sha256=document, size=1, content_type="application/pdf", retention_class="medical_record",
                     purge_not_before=date(2041, 1, 1)))
    records = []
    for i in range(count):
        phone = f"1390000{i:04d}"
        user = User(role="patient", display_name=f"患者{i}", login_hash=login_hash(ctx, phone), password_hash=password)
        session.add(user)
        await session.flush()
        patient = Patient(user_id=user.id, real_name=f"患者{i}", id_number_sealed=b"x", id_number_hash=uuid.uuid4().hex,
                          phone_sealed=b"x", phone_hash=uuid.uuid4().hex, birth_date=date(1960, 1, 1), sex="female",
                          medical_record_number=f"MR{i:010d}")
        session.add(patient)
        await session.flush()
        record = sealed_prior(ctx.cipher, PriorDiagnosisContent("I10", "I10", "高血压", "示范市第一人民医院"),
                              patient_id=patient.id, document_type="outpatient_record", diagnosed_on=date(2026, 1, 1),
                              document_sha256=document, document_content_type="application/pdf")
        session.add(record)
        await session.flush()
        records.append((record.id, user.id))
    await session.commit()
    return records


async def read_documents(session: AsyncSession, reader: User, records: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """What `visit_prior_document` audits when a doctor opens a patient's document (REV-04)."""
    actor = Actor(reader.id, reader.role, client_address="10.0.0.7")
    for record_id, _ in records:
        await append_audit(session, actor, "prior_diagnosis.document_read", subject_type="prior_diagnosis",
                           subject_id=record_id, rule_id="REV-04", detail={"visit_id": str(uuid.uuid4())})
    await session.commit()


async def incidents(client: AsyncTestClient[Any], admin: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/incidents", headers=admin)
    assert response.status_code == 200, response.text
    return list(response.json())


async def scan(client: AsyncTestClient[Any], admin: dict[str, str]) -> dict[str, Any]:
    response = await client.post(f"{API}/scan", headers=admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_reads_the_scan_counts_are_the_actions_the_areas_really_audit() -> None:
    area = REPO / "hospital"
    sources = "\n".join(p.read_text(encoding="utf-8") for p in area.rglob("*.py")
                        if p.relative_to(area).parts[0] != "security")
    for action in [*READ_ACTIONS, *PATIENT_READS]:
        assert f'"{action}"' in sources, f"{action} is no longer audited by any area: SEC-02 would go blind to it"


async def test_bulk_access_over_the_threshold_opens_one_incident_once_and_under_it_none(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    ctx.settings = ctx.settings.with_(security_bulk_access_patients=3)
    records = await make_patients(session, ctx, 6)
    doctor, pharmacist = await user_of(session, "doctor"), await user_of(session, "pharmacist")
    await read_documents(session, doctor, records[:4])  # 4 patients > 3
    await read_documents(session, pharmacist, records[:3])  # 3 patients: at the threshold, not over it
    admin = await login_as(client, "admin")

    first = await scan(client, admin)
    assert len(first["opened"]) == 1 and first["chain_breaks"] == []
    assert (await scan(client, admin))["opened"] == []  # the same finding twice: still one incident
    [incident] = await incidents(client, admin)
    assert incident["kind"] == "bulk_access" and incident["status"] == "open" and incident["source"] == "detection"
    assert incident["account"]["user_id"] == str(doctor.id) and incident["affected_subjects"] == 4
    assert incident["leak"] == "suspected" and not incident["overdue"]
    assert sorted(a["code"] for a in incident["required_authorities"]) == ["cyberspace", "health", "police"]
    detail = (await client.get(f"{API}/incidents/{incident['incident_id']}", headers=admin)).json()
    assert set(detail["evidence"]["patients"]) == {str(patient) for _, patient in records[:4]}

    await read_documents(session, doctor, records[4:])  # the burst goes on: 6 patients now
    grown = await scan(client, admin)
    assert grown["opened"] == [] and grown["updated"] == [incident["incident_id"]]
    [incident] = await incidents(client, admin)
    assert incident["affected_subjects"] == 6
    timeline = (await client.get(f"{API}/incidents/{incident['incident_id']}", headers=admin)).json()["timeline"]
    assert [s["action"] for s in timeline] == ["opened", "detected_again"]


async def test_a_tampered_audit_row_opens_one_critical_incident(
    settings: Settings, client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    target = (await session.execute(select(AuditEntry.seq).order_by(AuditEntry.seq).offset(4).limit(1))).scalar_one()  # type: ignore[arg-type]
    await past_the_audit_trigger(session)
    await session.execute(sa.update(AuditEntry).where(AuditEntry.seq == target).values(actor_role="admin"))  # type: ignore[arg-type]
    await session.commit()
    env = {"HOSPITAL_DATABASE_URL": settings.resolved_database_url, "HOSPITAL_DATA_DIR": str(settings.data_dir)}
    # The command as cron runs it (in a thread: it runs its own event loop).
    run = await asyncio.to_thread(CliRunner().invoke, main, ["security", "scan"], env=env)
    assert run.exit_code == 3, run.output  # an incident was opened: cron alerts on it
    assert [b["seq"] for b in json.loads(run.stdout)["chain_breaks"]] == [target]

    admin = await login_as(client, "admin")
    assert (await scan(client, admin))["opened"] == []  # the break is known
    [incident] = await incidents(client, admin)
    assert incident["kind"] == "audit_tampering" and incident["severity"] == "critical"
    assert incident["leak"] == "none" and incident["required_authorities"] == []
    detail = (await client.get(f"{API}/incidents/{incident['incident_id']}", headers=admin)).json()
    assert [b["seq"] for b in detail["evidence"]["breaks"]] == [target]


async def test_the_periodic_scan_resumes_its_walk_and_still_finds_an_edited_or_truncated_tail(
    ctx: HospitalContext, session: AsyncSession, demo: None
) -> None:
    from hospital.db import create_engine, session_factory

    engine = create_engine(ctx.settings.resolved_database_url)
    try:
        scans = SecurityScans(ctx, session_factory(engine))
        full = await scans.run_once()
        assert full.entries_checked > 5 and full.opened == [] and scans.cursor is not None
        again = await scans.run_once()
        assert again.entries_checked == 0 and again.opened == []  # nothing new: nothing walked
        last = scans.cursor.last_seq
        await past_the_audit_trigger(session)
        await session.execute(sa.update(AuditEntry).where(AuditEntry.seq == last).values(detail={"forged": 1}))  # type: ignore[arg-type]
        await session.commit()
        edited = await scans.run_once()
        assert len(edited.opened) == 1 and [b["seq"] for b in edited.chain_breaks] == [last]
        assert (await scans.run_once()).opened == []  # the edit is known; the walk moves past the incident's entries
        assert scans.cursor.last_seq > last
        await past_the_audit_trigger(session)
        await session.execute(sa.delete(AuditEntry).where(AuditEntry.seq == scans.cursor.last_seq))  # type: ignore[arg-type]
        await session.commit()
        truncated = await scans.run_once()
        assert len(truncated.opened) == 1 and truncated.opened != edited.opened
    finally:
        await engine.dispose()


async def test_credential_stuffing_and_face_lockouts_open_incidents(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    ctx.settings = ctx.settings.with_(security_stuffing_accounts=2)
    await make_patients(session, ctx, 3)
    for i in range(3):  # wrong passwords for three accounts from one address
        response = await client.post("/api/auth/login", json={"username": f"1390000{i:04d}", "password": "guess-123456"})
        assert response.status_code == 401
    doctor = await user_of(session, "doctor")
    await append_audit(session, Actor(doctor.id, "doctor", client_address="10.0.0.8"), "face.locked",
                       subject_type="user", subject_id=doctor.id, rule_id="FACE-04", detail={"failed_attempts": 5})
    await session.commit()
    admin = await login_as(client, "admin")
    assert len((await scan(client, admin))["opened"]) == 2
    found = {i["kind"]: i for i in await incidents(client, admin)}
    assert found["credential_stuffing"]["affected_subjects"] == 3 and found["credential_stuffing"]["client_address"]
    assert found["face_lockout"]["account"]["user_id"] == str(doctor.id) and found["face_lockout"]["severity"] == "low"


async def test_a_leak_cannot_be_closed_before_it_is_reported_to_every_authority(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    admin = await login_as(client, "admin")
    opened = await client.post(f"{API}/incidents", headers=admin, json=LEAK)
    assert opened.status_code == 201, opened.text
    incident_id = opened.json()["incident_id"]
    contained = await client.post(f"{API}/incidents/{incident_id}/containment", headers=admin,
                                  json={"note": "网盘链接已删除，导出账号已停用"})
    assert contained.status_code == 200 and contained.json()["status"] == "contained"

    review = {"review": "导出功能缺少审批；已加审批并培训科室"}
    before = await count_rows(session, SecurityIncident, SecurityIncidentStep, AuditEntry, OutboxEvent)
    refused = await client.post(f"{API}/incidents/{incident_id}/closure", headers=admin, json=review)
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["rule_id"] == "SEC-02" and problem["type"] == "/problems/SEC-02"
    assert sorted(problem["missing_authorities"]) == ["cyberspace", "health", "police"]
    assert await count_rows(session, SecurityIncident, SecurityIncidentStep, AuditEntry, OutboxEvent) == before
    assert (await session.get(SecurityIncident, uuid.UUID(incident_id))).status == "contained"  # type: ignore[union-attr]
    await session.rollback()

    now = "2026-11-23T10:00:00+08:00"
    partial = await client.post(f"{API}/incidents/{incident_id}/reports", headers=admin,
                                json={"authorities": ["health"], "reported_at": now, "reference": "区卫健委 受理号 2026-118"})
    assert partial.status_code == 200 and partial.json()["status"] == "contained"
    still = await client.post(f"{API}/incidents/{incident_id}/closure", headers=admin, json=review)
    assert still.status_code == 422 and still.json()["missing_authorities"] == ["cyberspace", "police"]
    done = await client.post(f"{API}/incidents/{incident_id}/reports", headers=admin,
                             json={"authorities": ["cyberspace", "police"], "reported_at": now,
                                   "reference": "网信办 电话报告; 公安 110 接警号 3301"})
    assert done.status_code == 200 and done.json()["status"] == "reported" and done.json()["reported_at"]
    closed = await client.post(f"{API}/incidents/{incident_id}/closure", headers=admin, json=review)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    late = await client.post(f"{API}/incidents/{incident_id}/notes", headers=admin, json={"note": "补充说明"})
    assert late.status_code == 409 and late.json()["rule_id"] == "SEC-02"


async def test_an_unreported_leak_shows_overdue_after_its_deadline(
    client: AsyncTestClient[Any], clock: FakeClock, demo: None
) -> None:
    admin = await login_as(client, "admin")
    opened = (await client.post(f"{API}/incidents", headers=admin, json={**LEAK, "leak": "suspected"})).json()
    assert opened["report_due_at"] and not opened["overdue"]
    clock.advance(minutes=61)  # HOSPITAL_SECURITY_REPORT_HOURS = 1 by default
    [listed] = await incidents(client, admin)
    assert listed["overdue"] is True
    ruled_out = await client.post(f"{API}/incidents/{opened['incident_id']}/assessment", headers=admin,
                                  json={"leak": "none", "personal_information": False,
                                        "note": "表格为脱敏演示数据，不含真实患者信息"})
    assert ruled_out.status_code == 200 and ruled_out.json()["overdue"] is False
    assert ruled_out.json()["required_authorities"] == []


async def test_suspending_the_involved_doctor_refuses_their_login_and_practice_until_restored(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    doctor = await user_of(session, "doctor")
    admin = await login_as(client, "admin")
    opened = (await client.post(f"{API}/incidents", headers=admin,
                                json={**LEAK, "account_user_id": str(doctor.id)})).json()
    actions = f"{API}/incidents/{opened['incident_id']}/account-actions"
    suspended = await client.post(actions, headers=admin, json={"action": "suspend_account", "note": "账号疑似被盗用"})
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["account"]["suspended"] and suspended.json()["account"]["practice_suspended"]

    wang = next(u for u in DEMO_USERS if u.role == "doctor")
    refused = await client.post("/api/auth/login", json={"username": wang.username, "password": wang.password})
    assert refused.status_code == 401
    with pytest.raises(AccessRefused) as practice:
        await require_can_practise(session, ctx, doctor.id)
    assert practice.value.rule_id == "STAFF-03"
    member = (await session.execute(select(StaffMember).where(StaffMember.user_id == doctor.id))).scalar_one()
    assert member.suspended and opened["incident_id"] in (member.suspension_reason or "")
    await session.rollback()
    twice = await client.post(actions, headers=admin, json={"action": "suspend_account"})
    assert twice.status_code == 409 and twice.json()["rule_id"] == "SEC-02"
    me = (await client.get("/api/me", headers=admin)).json()
    own = await client.post(actions, headers=admin, json={"action": "suspend_account", "account_user_id": me["id"]})
    assert own.status_code == 422 and own.json()["rule_id"] == "SEC-02"

    restored = await client.post(actions, headers=admin, json={"action": "restore_account", "note": "已重置密码"})
    assert restored.status_code == 200 and not restored.json()["account"]["suspended"]
    await login(client, wang.username, wang.password)
    await require_can_practise(session, ctx, doctor.id)
    timeline = (await client.get(f"{API}/incidents/{opened['incident_id']}", headers=admin)).json()["timeline"]
    assert [s["action"] for s in timeline] == ["opened", "account_suspended", "account_restored"]


async def test_every_change_is_audited_and_in_the_outbox_with_its_narrative_sealed(
    client: AsyncTestClient[Any], session: AsyncSession, settings: Settings, demo: None
) -> None:
    admin = await login_as(client, "admin")
    incident_id = (await client.post(f"{API}/incidents", headers=admin, json=LEAK)).json()["incident_id"]
    steps = [("notes", {"note": "信息科已保全网盘页面截图"}),
             ("assessment", {"leak": "confirmed", "personal_information": True, "note": "核对为真实患者数据",
                             "affected_subjects": 118}),
             ("containment", {"note": "链接已删除"}),
             ("reports", {"authorities": ["health", "cyberspace", "police"], "reported_at": "2026-11-23T10:00:00+08:00",
                          "reference": "沪卫信 2026-7"}),
             ("closure", {"review": "导出需双人审批，已上线"})]
    for path, body in steps:
        response = await client.post(f"{API}/incidents/{incident_id}/{path}", headers=admin, json=body)
        assert response.status_code == (201 if path == "notes" else 200), (path, response.text)
    actions = ["opened", "note", "assessed", "contained", "reported", "closed"]
    audited = (await session.execute(select(AuditEntry).where(AuditEntry.subject_id == incident_id)
                                     .order_by(AuditEntry.seq))).scalars().all()  # type: ignore[arg-type]
    assert [a.action for a in audited] == [f"security_incident.{a}" for a in actions]
    assert all(a.rule_id == "SEC-02" for a in audited) and "网盘" not in json.dumps([a.detail for a in audited])
    events = (await session.execute(select(OutboxEvent).where(OutboxEvent.event_type == "security.incident")
                                    .order_by(OutboxEvent.seq))).scalars().all()  # type: ignore[arg-type]
    assert [(e.version, e.payload["change"]) for e in events] == list(enumerate(actions, start=1))
    assert all("summary" not in e.payload and "note" not in e.payload for e in events)  # sealed (REC-03)
    assert "网盘" not in json.dumps([e.payload for e in events], ensure_ascii=False)
    opened = event_payload(events[1], settings)
    assert opened["summary"] == LEAK["summary"] and opened["note"] == "信息科已保全网盘页面截图"
    assert event_payload(events[4], settings)["reference"] == "沪卫信 2026-7"
    assert events[-1].payload["status"] == "closed" and events[-1].payload["reported_to"]
    assert (await verify_chain(session))[1] is None


async def test_only_administrators_reach_the_register(client: AsyncTestClient[Any], demo: None) -> None:
    for role in ("patient", "doctor"):
        refused = await client.get(f"{API}/incidents", headers=await login_as(client, role))
        assert refused.status_code == 403
    assert (await client.get(f"{API}/incidents")).status_code == 401
    page = await client.get("/admin/security")
    assert page.status_code == 200 and 'src="/static/js/pages/admin-security.js"' in page.text
    assert 'href="/admin/security"' in page.text


async def test_two_administrators_reporting_at_once_both_land_and_two_scans_at_once_open_one_incident(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, settings: Settings, demo: None
) -> None:
    from datetime import UTC, datetime

    from hospital.db import create_engine, session_factory
    from hospital.security.detection import service as detection_service
    from hospital.security.incidents import service as incident_service

    admin = await login_as(client, "admin")
    incident_id = uuid.UUID((await client.post(f"{API}/incidents", headers=admin, json=LEAK)).json()["incident_id"])
    tamper = (await session.execute(select(AuditEntry.seq).order_by(AuditEntry.seq).limit(1))).scalar_one()  # type: ignore[arg-type]
    await past_the_audit_trigger(session)
    await session.execute(sa.update(AuditEntry).where(AuditEntry.seq == tamper).values(detail={"forged": 1}))  # type: ignore[arg-type]
    await session.commit()
    engine = create_engine(settings.resolved_database_url)
    sessions = session_factory(engine)
    actor = Actor((await user_of(session, "admin")).id, "admin")
    at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    async def report(codes: list[str]) -> None:
        async with sessions() as s:
            await incident_service.record_report(s, ctx, actor, incident_id, authorities=codes, reported_at=at, reference="x-1")

    async def scan_once() -> list[str]:
        async with sessions() as s:
            return (await detection_service.scan(s, ctx, Actor.system("security-scan"))).opened

    try:
        await asyncio.gather(report(["health"]), report(["cyberspace", "police"]))
        opened = await asyncio.gather(scan_once(), scan_once())
    finally:
        await engine.dispose()
    incident = (await client.get(f"{API}/incidents/{incident_id}", headers=admin)).json()
    assert sorted(r["authority"] for r in incident["reports"]) == ["cyberspace", "health", "police"]  # no lost update
    assert incident["version"] == 3 and [s["version"] for s in incident["timeline"]] == [1, 2, 3]
    assert sorted(len(o) for o in opened) == [0, 1]  # serialised: the second scan finds the first one's incident


async def test_the_app_runs_the_periodic_scan_only_when_an_interval_is_set(settings: Settings,
                                                                          ctx: HospitalContext) -> None:
    from hospital.app import create_app

    ctx.settings = settings.with_(security_scan_interval_seconds=3600)
    async with AsyncTestClient(app=create_app(ctx.settings, ctx)):
        scans = ctx.security_scans()
        assert scans.task is not None and not scans.task.done()
    assert ctx.scans is None and scans.task.cancelled()
    assert settings.security_scan_interval_seconds == 0  # a Settings built in code (the tests') scans nothing
