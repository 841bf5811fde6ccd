"""Issue 4 over HTTP on both databases: the visit lifecycle (REV-04, FACE-02), the medical record (REC-01),
chat, the prescribing check (RX-01) and who may see what (SEC-01)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry, verify_chain
from hospital.core.errors import InvalidTransition, NotFound
from hospital.core.outbox import OutboxEvent
from hospital.identity.models import User
from hospital.signing.service import verify_signature
from hospital.visits.encounter.models import ChatMessage, MedicalRecord
from hospital.visits.encounter.service.lifecycle import require_visit_open_for_prescribing
from tests.conftest import FakeClock
from tests.faces import face_bytes
from tests.helpers import event_payload, give_biometric_consent, hospital_today, login_as
from tests.integration.visits.journey import (
    EMR,
    accept,
    book,
    demo_prior_id,
    doctor_in_session,
    new_patient,
    schedule_of,
    verified,
)
from tests.signing import signed_post

pytestmark = pytest.mark.requirement("REV-04", "REC-01", "FACE-02", "FACE-03", "RX-01")


async def booked_visit(client: AsyncTestClient[Any], mode: str = "video") -> tuple[dict[str, str], str]:
    patient = await login_as(client, "patient")
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], await demo_prior_id(client, patient),
                        mode=mode)
    assert booked.status_code == 201, booked.text
    return patient, booked.json()["visit_id"]


async def test_a_doctor_without_a_fresh_face_verification_cannot_accept(client: AsyncTestClient[Any], clock: FakeClock,
                                                                        demo: None) -> None:
    _, visit_id = await booked_visit(client)
    plain = await accept(client, await login_as(client, "doctor"), visit_id)
    assert plain.status_code == 403 and plain.json()["rule_id"] == "FACE-02"
    doctor = await doctor_in_session(client)
    clock.advance(minutes=31)
    stale = await accept(client, doctor, visit_id)
    assert stale.status_code == 403 and stale.json()["rule_id"] == "FACE-02"
    doctor = await verified(client, await login_as(client, "doctor"), "obama3.jpg")
    unconfirmed = await client.post(f"/api/visits/{visit_id}/accept", headers=doctor, json={"revisit_confirmed": False})
    assert unconfirmed.status_code == 422 and unconfirmed.json()["rule_id"] == "REV-04"
    accepted = await accept(client, doctor, visit_id)
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    assert accepted.json()["revisit_confirmed_at"] and accepted.json()["allowed_actions"] == ["start", "terminate"]


async def test_a_visit_runs_from_booking_to_completion_with_its_record_signed_and_every_step_audited(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, clock: FakeClock, demo: None
) -> None:
    patient, visit_id = await booked_visit(client, mode="text")
    doctor = await doctor_in_session(client)
    document = await client.get(f"/api/visits/{visit_id}/prior-diagnosis/document", headers=doctor)
    assert document.status_code == 200 and document.content.startswith(b"%PDF-")  # the records the doctor confirms on
    assert (await accept(client, doctor, visit_id)).status_code == 200
    assert (await client.post(f"/api/visits/{visit_id}/start", headers=doctor)).json()["state"] == "in_progress"
    for who, text in ((patient, "医生好，最近血压 135/85"), (doctor, "继续服药，注意低盐饮食")):
        clock.advance(seconds=1)
        sent = await client.post(f"/api/visits/{visit_id}/messages", headers=who, json={"body": text})
        assert sent.status_code == 201, sent.text
    sealed = (await session.execute(select(ChatMessage.body_sealed))).scalars().all()
    assert len(sealed) == 2 and all("血压".encode() not in s for s in sealed)  # sealed at rest
    await session.rollback()  # end this read, so later reads see later commits (SQLite snapshots)
    written = await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor, json=EMR)
    assert written.status_code == 200 and written.json()["signed"] is False
    assert (await client.get(f"/api/visits/{visit_id}/medical-record", headers=patient)).status_code == 404  # a draft
    signed = await signed_post(client, f"/api/visits/{visit_id}/medical-record/sign-off", doctor)
    assert signed.status_code == 200 and signed.json()["signed"] is True
    # RX-05: the record carries the doctor's JWS, which verifies against the hospital CA and covers the record.
    verified = await verify_signature(session, client.app.state.ctx, signed.json()["signature"])
    assert verified.payload["visit_id"] == visit_id and verified.payload["record"]["chief_complaint"] == EMR["chief_complaint"]
    assert verified.signer.role == "doctor"
    await session.rollback()
    record = (await client.get(f"/api/visits/{visit_id}/medical-record", headers=patient)).json()
    assert record["chief_complaint"] == EMR["chief_complaint"] and record["diagnosis_icd10"] == "I10"
    assert record["retention_class"] == "medical_record" and int(record["purge_not_before"][:4]) >= hospital_today().year + 15
    completed = await client.post(f"/api/visits/{visit_id}/complete", headers=doctor)
    assert completed.status_code == 200 and completed.json()["state"] == "completed"
    late = await client.post(f"/api/visits/{visit_id}/messages", headers=patient, json={"body": "谢谢"})
    assert late.status_code == 409 and late.json()["current_state"] == "completed"
    chat = (await client.get(f"/api/visits/{visit_id}/messages", headers=patient)).json()
    assert [(m["sender_role"], m["body"]) for m in chat] == [("patient", "医生好，最近血压 135/85"),
                                                            ("doctor", "继续服药，注意低盐饮食")]
    kept_until = (await session.execute(select(col(ChatMessage.purge_not_before)))).scalars().all()
    assert all(d.year == ctx.now().year + 3 for d in kept_until)
    events = (await session.execute(select(OutboxEvent).where(OutboxEvent.subject_id.in_(  # type: ignore[attr-defined]
        [visit_id, record["medical_record_id"]])).order_by(col(OutboxEvent.seq)))).scalars().all()
    assert [e.event_type for e in events] == ["visit.booked", "visit.accepted", "visit.started", "emr.signed",
                                              "visit.completed", "visit.consult_ended"]
    events = [e for e in events if e.event_type in ("visit.booked", "visit.accepted", "emr.signed", "visit.completed")]
    final = event_payload(events[-1], ctx.settings)
    assert final["outcome"] == "completed" and final["referred_offline"] is False and final["answered"] is True
    assert final["present_diagnosis"] == {"icd10_code": "I10", "name": "原发性高血压"} and final["main_diagnosis_code"] == "I10"
    assert final["prior_diagnosis"]["diagnosed_on"] and final["started_at"] and final["ended_at"]
    assert EMR["chief_complaint"] not in str(events[2].payload) and "原发性高血压" not in str(events[2].payload)  # REC-03
    assert event_payload(events[2], ctx.settings)["chief_complaint"] == EMR["chief_complaint"]
    assert event_payload(events[2], ctx.settings)["signature"] == signed.json()["signature"]
    actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.subject_id == visit_id)
                                     .order_by(col(AuditEntry.seq)))).scalars().all()
    assert [a for a in actions if a.startswith("visit.")] == ["visit.booked", "visit.accepted", "visit.started",
                                                             "visit.completed"]
    assert actions.count("chat.message_posted") == 2
    assert (await session.execute(select(AuditEntry).where(AuditEntry.action == "medical_record.signed"))).scalar_one()
    checked, broken = await verify_chain(session)
    assert broken is None and checked > 10


async def test_completing_needs_a_signed_record_and_a_signed_record_never_changes(
    client: AsyncTestClient[Any], clock: FakeClock, demo: None
) -> None:
    _, visit_id = await booked_visit(client)
    doctor = await doctor_in_session(client)
    await accept(client, doctor, visit_id)
    await client.post(f"/api/visits/{visit_id}/start", headers=doctor)
    no_record = await client.post(f"/api/visits/{visit_id}/complete", headers=doctor)
    assert no_record.status_code == 422 and no_record.json()["rule_id"] == "REC-01"
    bad_code = await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor, json={**EMR, "diagnosis_icd10": "X"})
    assert bad_code.status_code == 422 and bad_code.json()["rule_id"] == "REV-02"
    incomplete = await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor,
                                  json={**EMR, "chief_complaint": " "})
    assert incomplete.status_code == 200
    unsigned = await client.post(f"/api/visits/{visit_id}/complete", headers=doctor)
    assert unsigned.status_code == 422 and "chief_complaint" in unsigned.json()["detail"]
    refused = await signed_post(client, f"/api/visits/{visit_id}/medical-record/sign-off", doctor)
    assert refused.status_code == 422 and refused.json()["missing"] == ["chief_complaint"]
    await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor, json=EMR)
    clock.advance(minutes=6)  # the practice session holds; the signing window (FACE-03) does not
    stale = await signed_post(client, f"/api/visits/{visit_id}/medical-record/sign-off", doctor)
    assert stale.status_code == 403 and stale.json()["rule_id"] == "FACE-03"
    doctor = await doctor_in_session(client)
    assert (await signed_post(client, f"/api/visits/{visit_id}/medical-record/sign-off", doctor)).status_code == 200
    changed = await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor, json=EMR)
    assert changed.status_code == 409 and changed.json()["current_state"] == "signed"
    assert (await client.post(f"/api/visits/{visit_id}/complete", headers=doctor)).status_code == 200


async def test_illegal_transitions_are_refused_naming_the_current_state(client: AsyncTestClient[Any], demo: None) -> None:
    patient, visit_id = await booked_visit(client)
    doctor = await doctor_in_session(client)
    for action, state in (("start", "requested"), ("complete", "requested")):
        refused = await client.post(f"/api/visits/{visit_id}/{action}", headers=doctor)
        assert refused.status_code == 409 and refused.json()["current_state"] == state
    await accept(client, doctor, visit_id)
    early = await client.post(f"/api/visits/{visit_id}/complete", headers=doctor)
    assert early.status_code == 409 and early.json()["current_state"] == "accepted"
    assert (await client.post(f"/api/visits/{visit_id}/cancel", headers=patient)).status_code == 200
    after = await accept(client, doctor, visit_id)
    assert after.status_code == 409 and after.json()["current_state"] == "cancelled"
    assert (await client.post(f"/api/visits/{visit_id}/accept", headers=patient, json={"revisit_confirmed": True})
            ).status_code == 403  # a patient never accepts


async def test_termination_refers_the_patient_offline_and_flags_a_suspected_infection(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    patient, visit_id = await booked_visit(client)
    doctor = await doctor_in_session(client)
    await accept(client, doctor, visit_id)
    unreferred = await client.post(f"/api/visits/{visit_id}/terminate", headers=doctor,
                                   json={"reason": "suspected_infectious"})
    assert unreferred.status_code == 422 and unreferred.json()["rule_id"] == "REV-04"
    terminated = await client.post(f"/api/visits/{visit_id}/terminate", headers=doctor, json={
        "reason": "suspected_infectious", "suspected_icd10": "A15.0", "note": "咳嗽3周，低热",
        "referral": {"institution": "示范市肺科医院", "department": "结核科", "advice": "尽快线下就诊", "urgent": True}})
    assert terminated.status_code == 200, terminated.text
    visit = terminated.json()
    assert visit["state"] == "terminated" and visit["referral"]["institution"] == "示范市肺科医院"
    assert visit["infectious_flag"]["icd10_code"] == "A15.0" and visit["infectious_flag"]["statutory_class"] == "B"
    event = (await session.execute(select(OutboxEvent).where(OutboxEvent.event_type == "visit.terminated"))).scalar_one()
    assert event.payload["outcome"] == "terminated" and event.payload["referred_offline"] is True
    payload = event_payload(event, ctx.settings)  # the flag and the reason are sealed in the outbox (REC-03)
    assert payload["infectious_flag"] is True and payload["termination_reason"] == "suspected_infectious"
    assert (await client.get(f"/api/visits/{visit_id}", headers=patient)).json()["referral"]["urgent"] is True
    chat = await client.post(f"/api/visits/{visit_id}/messages", headers=patient, json={"body": "好的"})
    assert chat.status_code == 409


async def test_a_terminated_visit_cannot_be_prescribed_for(client: AsyncTestClient[Any], session: AsyncSession,
                                                           ctx: HospitalContext, demo: None) -> None:
    _, visit_id = await booked_visit(client)
    doctor = await doctor_in_session(client)
    await accept(client, doctor, visit_id)
    doctor_id = ctx.tokens.decode(doctor["Authorization"][7:]).user_id
    open_visit = await require_visit_open_for_prescribing(session, ctx, uuid.UUID(visit_id), doctor_id)
    assert open_visit.state == "accepted"
    await session.rollback()
    admin_id = (await session.execute(select(User.id).where(User.role == "admin"))).scalar_one()
    with pytest.raises(NotFound):
        await require_visit_open_for_prescribing(session, ctx, uuid.UUID(visit_id), admin_id)
    await session.rollback()
    await client.post(f"/api/visits/{visit_id}/terminate", headers=doctor, json={
        "reason": "condition_changed", "referral": {"institution": "示范市第一人民医院", "advice": "线下心内科就诊"}})
    with pytest.raises(InvalidTransition) as refused:
        await require_visit_open_for_prescribing(session, ctx, uuid.UUID(visit_id), doctor_id)
    assert refused.value.rule_id == "RX-01" and refused.value.current_state == "terminated"
    await session.rollback()


async def test_patient_b_and_another_doctor_get_404_for_patient_as_visit(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    patient_a, visit_id = await booked_visit(client)
    doctor = await doctor_in_session(client)
    await accept(client, doctor, visit_id)
    await client.post(f"/api/visits/{visit_id}/messages", headers=patient_a, json={"body": "你好"})
    patient_b = await new_patient(client, "吴十", date(1972, 10, 10), "13911110008")
    admin = await login_as(client, "admin")
    application = {"kind": "doctor", "username": "doctor.zhou", "initial_password": "zhou-pass-2026",
                   "real_name": "周医生", "id_number": "110105199009093412", "title": "主治医师", "clinical_years": 5,
                   "departments": ["03.04"], "credentials": [
                       {"kind": "physician_qualification", "number": "2012310001"},
                       {"kind": "physician_practice", "number": "1103100009", "valid_until": "2099-12-31"}],
                   "practice_category": "临床", "practice_scope": "内科专业",
                   "practice_institution": "示范市第一人民医院"}
    admitted = await client.post("/api/staff", headers=admin, data={"application": json.dumps(application)},
                                 files={"photo": ("photo.jpg", face_bytes("rose1.jpg"), "image/jpeg")})
    assert admitted.status_code == 201, admitted.text
    from tests.helpers import login

    other_login = await login(client, "doctor.zhou", "zhou-pass-2026")
    await give_biometric_consent(client, other_login)  # FACE-01: in their own session
    other_doctor = await verified(client, other_login, "rose2.jpg")
    before = (await session.execute(select(MedicalRecord))).scalars().all()
    for outsider in (patient_b, other_doctor):
        for path in ("", "/messages", "/medical-record", "/prior-diagnosis/document"):
            response = await client.get(f"/api/visits/{visit_id}{path}", headers=outsider)
            assert response.status_code == 404, (path, response.text)
        assert (await client.get("/api/visits", headers=outsider)).json() == []
        posted = await client.post(f"/api/visits/{visit_id}/messages", headers=outsider, json={"body": "偷看"})
        assert posted.status_code == 404
    assert (await client.post(f"/api/visits/{visit_id}/cancel", headers=patient_b)).status_code == 404
    assert (await client.post(f"/api/visits/{visit_id}/start", headers=other_doctor)).status_code == 404
    assert (await client.put(f"/api/visits/{visit_id}/medical-record", headers=other_doctor, json=EMR)).status_code == 404
    assert (await client.get(f"/api/visits/{visit_id}", headers=admin)).status_code == 403  # no role here at all
    assert (await session.execute(select(MedicalRecord))).scalars().all() == before
    own = await client.get(f"/api/visits/{visit_id}", headers=patient_a)
    assert own.status_code == 200 and own.json()["state"] == "accepted"
