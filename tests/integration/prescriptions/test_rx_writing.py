"""Writing and signing a prescription (RX-01…RX-05, RX-07, FACE-03) over HTTP, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.core.outbox import OutboxEvent
from hospital.prescriptions.models import Prescription
from hospital.signing.service import hospital_signing
from hospital.visits.booking.models import Visit
from tests.conftest import FakeClock
from tests.helpers import count_rows, event_payload, login_as
from tests.integration.prescriptions.conftest import amlodipine, make_visit, rx_body, signing_doctor, write
from tests.signing import signed_post

pytestmark = pytest.mark.requirement("RX-01", "RX-02", "RX-03", "RX-04", "RX-05", "RX-07", "FACE-03", "REV-05")

TABLES = (Prescription, AuditEntry, OutboxEvent)


async def test_the_visits_doctor_signs_a_prescription_that_waits_for_the_pharmacist(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, visit: Visit
) -> None:
    written = await write(client, await signing_doctor(client), visit)
    assert written.status_code == 201, written.text
    rx = written.json()
    assert rx["status"] == "pending_review" and rx["revision"] == 1
    document = rx["document"]
    assert document["prior_diagnosis"]["icd10"] == "I10" and document["items"][0]["drug_code"] == "C08CA01-tab-5mg"
    assert document["face_verification"]["practice_session_id"] != "None"
    signing = await hospital_signing(session, ctx)
    verified = signing.verifier.verify(rx["doctor_jws"], crl_or_revoked_serials=None, at=ctx.now())
    assert verified.payload == document and verified.signer.role == "doctor"  # RX-05: the doctor's own JWS
    event = (await session.execute(select(OutboxEvent).where(
        OutboxEvent.event_type == "prescription.submitted"))).scalar_one()
    assert "doctor_jws" not in event.payload and "张三" not in str(event.payload)  # sealed at rest (REC-03)
    payload = event_payload(event, ctx.settings)
    assert payload["doctor_jws"] == rx["doctor_jws"] and payload["prescription_number"] == rx["prescription_number"]
    assert payload["prescription"] == document


@pytest.mark.parametrize(
    ("body", "rule_id"),
    [
        (rx_body(diagnoses=(("E11.9", "2型糖尿病"),)), "RX-01"),  # not the disease of the prior diagnosis
        (rx_body({"drug_code": "N02AA01-tab-10mg", "dose_per_time": "10", "times_per_day": 3, "days_supply": 3,
                  "quantity_packs": 1, "usage": "口服"}), "RX-02"),  # morphine
        (rx_body({"drug_code": "N05BA01-tab-2.5mg", "dose_per_time": "2.5", "times_per_day": 2, "days_supply": 7,
                  "quantity_packs": 1, "usage": "口服"}), "RX-02"),  # diazepam
        (rx_body(amlodipine(dose_per_time="10", times_per_day=2, quantity_packs=1)), "RX-03"),  # 20 mg a day
        (rx_body(amlodipine(days_supply=14, quantity_packs=1)), "RX-03"),  # over 7 days without a reason
        (rx_body({"drug_code": "C10AA01-tab-20mg", "dose_per_time": "20", "times_per_day": 1, "days_supply": 7,
                  "quantity_packs": 1, "usage": "口服，每晚"},
                 {"drug_code": "J01FA09-tab-250mg", "dose_per_time": "250", "times_per_day": 2, "days_supply": 7,
                  "quantity_packs": 3, "usage": "口服"}), "RX-04"),  # simvastatin with clarithromycin, a blocked pair
        (rx_body(amlodipine(quantity_packs=2)), "RX-03"),  # one pack over dose × days, no coded reason
        (rx_body(amlodipine(usage=" ")), "RX-03"),  # no 用法: the platform would refuse it (orderList[].admission)
    ],
    ids=["other-disease", "morphine", "diazepam", "over-daily-dose", "over-7-days", "blocked-pair", "one-extra-pack",
         "no-usage"],
)
async def test_a_blocking_rule_refuses_the_prescription_naming_the_rule_and_leaves_nothing(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit, body: dict[str, Any], rule_id: str
) -> None:
    doctor = await signing_doctor(client)
    checked = await client.post(f"/api/visits/{visit.id}/prescriptions/check", headers=doctor, json=body)
    assert checked.status_code == 200 and not checked.json()["signable"] and rule_id in checked.json()["rule_ids"]
    before = await count_rows(session, *TABLES)
    refused = await client.post(f"/api/visits/{visit.id}/prescriptions", headers=doctor,
                                json={**body, "draft_sha256": checked.json()["draft_sha256"]})
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert rule_id in problem.get("rule_ids", [problem["rule_id"]])
    assert await count_rows(session, *TABLES) == before


async def test_the_dry_run_returns_the_findings_and_the_drafts_hash_and_signs_nothing(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    doctor = await signing_doctor(client)
    before = await count_rows(session, Prescription, OutboxEvent)
    checked = await client.post(f"/api/visits/{visit.id}/prescriptions/check", headers=doctor,
                                json=rx_body(amlodipine(dose_per_time="20")))
    assert checked.status_code == 200, checked.text
    result = checked.json()
    assert result["signable"] is False and "RX-03" in result["rule_ids"] and len(result["draft_sha256"]) == 64
    assert any(f["rule_id"] == "RX-03" and f["severity"] == "block" for f in result["findings"])
    fine = (await client.post(f"/api/visits/{visit.id}/prescriptions/check", headers=doctor, json=rx_body())).json()
    assert fine["signable"] is True and fine["draft_sha256"] != result["draft_sha256"]
    assert await count_rows(session, Prescription, OutboxEvent) == before  # a dry run signs and reports nothing
    checks = (await session.execute(select(AuditEntry).where(AuditEntry.action == "prescription.checked"))).all()
    assert len(checks) == 2


async def test_signing_without_the_dry_runs_hash_or_with_another_draft_is_refused_and_leaves_nothing(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    doctor = await signing_doctor(client)
    path = f"/api/visits/{visit.id}/prescriptions"
    checked = (await client.post(f"{path}/check", headers=doctor, json=rx_body())).json()
    digest = checked["draft_sha256"]
    before = await count_rows(session, *TABLES)
    attempts = {
        "no hash": rx_body(),
        "another draft": {**rx_body(amlodipine(usage="口服，每日晚上")), "draft_sha256": digest},
        "a hash nobody checked": {**rx_body(amlodipine(usage="口服，每日晚上")),
                                  "draft_sha256": __import__("hashlib").sha256(b"forged").hexdigest()},
    }
    for what, body in attempts.items():
        refused = await client.post(path, headers=doctor, json=body)
        assert refused.status_code == 422, (what, refused.text)
        assert refused.json()["rule_id"] == "RX-07", what
    assert await count_rows(session, *TABLES) == before
    # the client cannot say who wrote it: origin and signature_confirmed are no fields of the form
    for field in ({"origin": "clinician"}, {"signature_confirmed": True}):
        assert (await client.post(path, headers=doctor, json={**rx_body(), "draft_sha256": digest, **field})
                ).status_code == 400
    assert await count_rows(session, *TABLES) == before
    signed = await signed_post(client, path, doctor, {**rx_body(), "draft_sha256": digest})
    assert signed.status_code == 201, signed.text
    assert signed.json()["document"]["origin"] == "clinician"  # recorded by the server, under the signature
    assert signed.json()["document"]["draft_sha256"] == digest
    stored = (await session.execute(select(Prescription))).scalars().one()
    assert stored.origin == "clinician" and stored.draft_check_id is not None
    again = await signed_post(client, path, doctor, {**rx_body(), "draft_sha256": digest})
    assert again.status_code == 422 and again.json()["rule_id"] == "RX-07"  # one dry run, one signature


async def test_a_dry_run_is_the_doctors_own(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, visit: Visit
) -> None:
    doctor = await signing_doctor(client)
    other_visit = await make_visit(session, ctx)
    digest = (await client.post(f"/api/visits/{visit.id}/prescriptions/check", headers=doctor,
                                json=rx_body())).json()["draft_sha256"]
    elsewhere = await client.post(f"/api/visits/{other_visit.id}/prescriptions", headers=doctor,
                                  json={**rx_body(), "draft_sha256": digest})
    assert elsewhere.status_code == 422 and elsewhere.json()["rule_id"] == "RX-07"  # the hash covers the visit


async def test_blocking_findings_carry_rule_id_severity_and_category(client: AsyncTestClient[Any],
                                                                    visit: Visit) -> None:
    morphine = {"drug_code": "N02AA01-tab-10mg", "dose_per_time": "10", "times_per_day": 3, "days_supply": 3,
                "quantity_packs": 1, "usage": "口服"}
    refused = await write(client, await signing_doctor(client), visit, rx_body(morphine))
    findings = refused.json()["findings"]
    assert {(f["rule_id"], f["severity"], f["category"]) for f in findings} >= {("RX-02", "block", "non_standard")}
    assert all(f["message"] for f in findings)


async def test_over_seven_days_with_a_chronic_reason_is_accepted_and_the_warning_kept(
    client: AsyncTestClient[Any], visit: Visit
) -> None:
    body = rx_body(amlodipine(days_supply=28, quantity_packs=1), long_prescription_reason="高血压病情稳定，长期用药",
                   long_prescription_code="stable_chronic_disease")
    written = await write(client, await signing_doctor(client), visit, body)
    assert written.status_code == 201, written.text
    assert all(f["severity"] != "block" for f in written.json()["findings"])


async def test_a_verification_six_minutes_old_cannot_sign(client: AsyncTestClient[Any], session: AsyncSession,
                                                         clock: FakeClock, visit: Visit) -> None:
    doctor = await signing_doctor(client)
    clock.advance(minutes=6)
    checked = await client.post(f"/api/visits/{visit.id}/prescriptions/check", headers=doctor, json=rx_body())
    assert checked.status_code == 200  # the dry run needs no fresh face: signing does
    before = await count_rows(session, *TABLES)
    refused = await client.post(f"/api/visits/{visit.id}/prescriptions", headers=doctor,
                                json={**rx_body(), "draft_sha256": checked.json()["draft_sha256"]})
    assert refused.status_code == 403 and refused.json()["rule_id"] == "FACE-03"
    assert await count_rows(session, *TABLES) == before


async def test_four_minutes_is_still_fresh_enough_to_sign(client: AsyncTestClient[Any], clock: FakeClock,
                                                         visit: Visit) -> None:
    doctor = await signing_doctor(client)
    clock.advance(minutes=4)
    assert (await write(client, doctor, visit)).status_code == 201


async def test_a_doctor_without_face_verification_cannot_sign(client: AsyncTestClient[Any], visit: Visit) -> None:
    refused = await write(client, await login_as(client, "doctor"), visit)
    assert refused.status_code == 403 and refused.json()["rule_id"] == "FACE-03"


@pytest.mark.parametrize("state", ["requested", "completed", "terminated"])
async def test_only_an_accepted_or_running_visit_prescribes(client: AsyncTestClient[Any], session: AsyncSession,
                                                           ctx: HospitalContext, demo: None, state: str) -> None:
    visit = await make_visit(session, ctx, state)
    refused = await write(client, await signing_doctor(client), visit)
    assert refused.status_code == 409 and refused.json()["rule_id"] == "RX-01"
    assert refused.json()["current_state"] == state


async def test_another_doctors_visit_is_not_found(client: AsyncTestClient[Any], session: AsyncSession,
                                                 visit: Visit) -> None:
    from hospital.identity.models import User

    admin = (await session.execute(select(User.id).where(User.role == "admin"))).scalar_one()
    stored = await session.get(Visit, visit.id)
    assert stored is not None
    stored.doctor_user_id = admin  # any other user: the visit is not this doctor's
    await session.commit()
    assert (await write(client, await signing_doctor(client), visit)).status_code == 404


async def test_patients_and_pharmacists_cannot_write_prescriptions(client: AsyncTestClient[Any], visit: Visit) -> None:
    for role in ("patient", "pharmacist"):
        assert (await write(client, await login_as(client, role), visit)).status_code == 403


async def test_a_child_under_six_needs_a_recorded_guardian(client: AsyncTestClient[Any], session: AsyncSession,
                                                          ctx: HospitalContext, demo: None) -> None:
    from hospital.patients.models import Patient

    patient = (await session.execute(select(Patient))).scalars().one()
    patient.birth_date = ctx.now().date().replace(year=ctx.now().year - 4)
    session.add(patient)
    await session.commit()
    doctor = await signing_doctor(client)
    refused = await write(client, doctor, await make_visit(session, ctx))
    assert refused.status_code == 422 and "REV-05" in refused.json()["rule_ids"]
    with_guardian = await make_visit(session, ctx, guardian={"name": "张母", "relation": "mother"})
    # with a guardian the child is dosed as a child: amlodipine is not for children under 6 (RX-03)
    dosed = await write(client, doctor, with_guardian)
    assert dosed.status_code == 422 and "REV-05" not in dosed.json()["rule_ids"], dosed.text
    assert "not for children under 6" in dosed.text


async def test_a_long_prescription_of_an_antimicrobial_is_refused_and_leaves_nothing(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    amoxicillin = {"drug_code": "J01CA04-cap-250mg", "dose_per_time": "500", "times_per_day": 2, "days_supply": 10,
                   "quantity_packs": 2, "usage": "口服"}
    doctor = await signing_doctor(client)
    long_rx = rx_body(amoxicillin, long_prescription_reason="长期用药", long_prescription_code="stable_chronic_disease")
    checked = await client.post(f"/api/visits/{visit.id}/prescriptions/check", headers=doctor, json=long_rx)
    assert checked.status_code == 200 and not checked.json()["signable"], checked.text
    assert any(f["rule_id"] == "RX-03" and f["severity"] == "block" and "never long prescriptions" in f["message"]
               for f in checked.json()["findings"]), checked.json()["findings"]
    before = await count_rows(session, *TABLES)
    refused = await client.post(f"/api/visits/{visit.id}/prescriptions", headers=doctor,
                                json={**long_rx, "draft_sha256": checked.json()["draft_sha256"]})
    assert refused.status_code == 422 and "RX-03" in refused.json().get("rule_ids", [refused.json()["rule_id"]])
    assert await count_rows(session, *TABLES) == before
    course = rx_body(amoxicillin, long_prescription_reason="疗程需要", long_prescription_code="treatment_course")
    checked = await client.post(f"/api/visits/{visit.id}/prescriptions/check", headers=doctor, json=course)
    assert not any(f["rule_id"] == "RX-03" and f["severity"] == "block" for f in checked.json()["findings"]), (
        checked.json()["findings"])
