"""A scripted real day at the hospital, delivered to the simulated platform as it happens (SUP-01…04).

Through the real API: a doctor and a pharmacist admitted and face-verified, a schedule published, a visit booked
(the patient stating her allergies), accepted (the prior-diagnosis document read first), started, its record signed,
a prescription checked and signed, rejected, revised and approved (each warning acknowledged), dispensed, shipped and
delivered, the visit completed, rated and complained about. After each act the dispatcher runs once and the
platform already holds that act's record (real time, the Guangdong rhythm), every method in its order, and no risk
warning. The same day with a pharmacist approving over warnings and a security incident leaves those warnings on
the platform; with the Zhejiang rhythm the prescription reaches the platform only when approved. Records the
regulator would flag are emitted directly (typed payloads, tests/payloads.py), since the hospital's own rules
refuse to produce them.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from connectors.supervision.catalogue import file_catalogue
from hospital.config import Settings
from tests import payloads
from tests.conftest import FakeClock
from tests.faces import face_bytes
from tests.helpers import choose_delivery, give_biometric_consent, login, login_as
from tests.integration.connector.conftest import (
    DispatcherFactory,
    Sim,
    deliver_all,
    demo_people,
    emit_all,
    fresh_outbox,
    staff_id_of,
)
from tests.integration.connector.real_day import a_whole_visit
from tests.integration.prescriptions.conftest import (
    amlodipine,
    checked_and_signed,
    rx_body,
    states_no_known_allergies,
    write,
)
from tests.integration.visits.journey import EMR, accept, book, demo_prior_id, publish
from tests.signing import signed_post

pytestmark = pytest.mark.requirement("SUP-02", "SUP-03")


def photo(name: str) -> bytes:
    return face_bytes(name)


DOCTOR = {"kind": "doctor", "username": "doctor.zhou", "initial_password": "zhou-pass-2026", "real_name": "周医生",
          "id_number": "110105199009093412", "title": "主治医师", "clinical_years": 5, "departments": ["03.03"],
          "credentials": [{"kind": "physician_qualification", "number": "2012310001"},
                          {"kind": "physician_practice", "number": "1103100009", "valid_until": "2029-12-31"}],
          "practice_category": "临床", "practice_scope": "内科专业",
          "practice_institution": "示范市第一人民医院"}
PHARMACIST = {"kind": "pharmacist", "username": "pharmacist.sun", "initial_password": "sun-pass-2026",
              "real_name": "孙药师", "id_number": "110105198808084411", "title": "主管药师", "clinical_years": 6,
              "departments": [], "credentials": [{"kind": "pharmacist_qualification", "number": "YS2012310009"}]}


async def admit_and_verify(client: AsyncTestClient[Any], application: dict[str, Any], enrol: str, live: str
                           ) -> str:
    """Admit through the API (STAFF-01/02), then verify the face (FACE-02); returns the user id."""
    admin = await login_as(client, "admin")
    admitted = await client.post("/api/staff", headers=admin, data={"application": json.dumps(application)},
                                 files={"photo": ("photo.jpg", face_bytes(enrol), "image/jpeg")})
    assert admitted.status_code == 201, admitted.text
    headers = await login(client, application["username"], application["initial_password"])
    await give_biometric_consent(client, headers)  # FACE-01: the clinician's own consent, in their session
    verified = await client.post("/api/me/face-verifications", headers=headers,
                                 files={"image": ("capture.jpg", face_bytes(live), "image/jpeg")})
    assert verified.status_code == 201, verified.text
    me = await client.get("/api/me", headers=headers)
    return str(me.json()["id"])


async def admitted_unverified(client: AsyncTestClient[Any]) -> str:
    """A third doctor admitted today who never verifies their face (FACE-02): the regulator's flag."""
    admin = await login_as(client, "admin")
    application = {**DOCTOR, "username": "doctor.qian", "real_name": "钱医生", "id_number": "110105198707075516",
                   "credentials": [{"kind": "physician_qualification", "number": "2012310002"},
                                   {"kind": "physician_practice", "number": "1103100010", "valid_until": "2029-12-31"}]}
    admitted = await client.post("/api/staff", headers=admin, data={"application": json.dumps(application)},
                                 files={"photo": ("photo.jpg", face_bytes("lin.jpg"), "image/jpeg")})
    assert admitted.status_code == 201, admitted.text
    me = await client.get("/api/me", headers=await login(client, "doctor.qian", "zhou-pass-2026"))
    return str(me.json()["id"])


async def admitted(client: AsyncTestClient[Any], clock: FakeClock, application: dict[str, Any], enrol: str,
                   live: str) -> dict[str, str]:
    """Admit through the API (STAFF-01/02) and verify the face (FACE-02); the headers of the practice session.
    The verification is stamped by the wall clock: the day's clock catches up, so every act follows it."""
    admin = await login_as(client, "admin")
    admission = await client.post("/api/staff", headers=admin, data={"application": json.dumps(application)},
                                  files={"photo": ("photo.jpg", photo(enrol), "image/jpeg")})
    assert admission.status_code == 201, admission.text
    headers = await login(client, application["username"], application["initial_password"])
    await give_biometric_consent(client, headers)  # FACE-01: the clinician's own consent, in their session
    verified = await client.post("/api/me/face-verifications", headers=headers,
                                 files={"image": ("capture.jpg", photo(live), "image/jpeg")})
    assert verified.status_code == 201, verified.text
    clock.current = max(clock.current, datetime.now(UTC))
    return {"Authorization": f"Bearer {verified.json()['access_token']}"}


async def deliver_now(dispatcher: Any) -> None:
    """Run the dispatcher until it has nothing it may send now (records waiting for a later one stay waiting)."""
    idle = 0
    while idle < 4:  # longer than an event waiting for a required record is set aside (hold_s × 10)
        idle = 0 if await dispatcher.step() else idle + 1
        await asyncio.sleep(0.08)


@dataclass
class Platform:
    """What the platform accepted, method by method, in the order it accepted them."""

    sim: Sim
    order: list[str] = field(default_factory=list)

    async def after(self, dispatcher: Any, *methods: str) -> None:
        """Deliver what is due, then each of `methods` has reached the platform (real time)."""
        await deliver_now(dispatcher)
        accepted = [r["method"] for r in await self.sim.requests() if r["msgCode"] == 200 and r["records"]]
        for method in accepted:
            if method not in self.order:
                self.order.append(method)
        missing = [m for m in methods if m not in accepted]
        assert not missing, f"not on the platform yet: {missing} (accepted so far: {self.order})"


async def a_scripted_day(client: AsyncTestClient[Any], clock: FakeClock, settings: Settings, sim: Sim,
                         dispatchers: DispatcherFactory, *, override: bool = False, incident: bool = False,
                         **rhythm: Any) -> Platform:
    dispatcher = await dispatchers(**rhythm)
    async with dispatcher.session() as session:
        await file_catalogue(session)
    platform = Platform(sim)
    at_signing = dispatcher.settings.prescription_at_signing
    doctor = await admitted(client, clock, {**DOCTOR, "departments": ["03.04"]}, "alex1.jpg", "alex2.jpg")
    pharmacist = await admitted(client, clock, PHARMACIST, "kit1.jpg", "kit2.jpg")
    await platform.after(dispatcher, "uploadOrganIndicators", "uploadDrugCatalogue", "uploadDoctorIndicators",
                         "uploadFaceVerification")

    published = await publish(client, doctor, department="03.04")  # 心血管内科: the demo patient's hypertension
    assert published.status_code == 201, published.text
    await platform.after(dispatcher, "openDoctorBusiness")
    patient = await login_as(client, "patient")
    booked = await book(client, patient, published.json()["schedule_id"], await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text
    visit = booked.json()["visit_id"]
    await states_no_known_allergies(client, patient)  # the allergy statement nothing is prescribed without (RX-04)
    await platform.after(dispatcher, "uploadAppointRecord")
    assert (await accept(client, doctor, visit)).status_code == 200
    await platform.after(dispatcher, "uploadConsultIndicators")
    assert (await client.post(f"/api/visits/{visit}/start", headers=doctor)).status_code == 200
    await platform.after(dispatcher, "uploadMeetClinicIndicators")
    assert (await client.put(f"/api/visits/{visit}/medical-record", headers=doctor, json=EMR)).status_code == 200
    signed = await signed_post(client, f"/api/visits/{visit}/medical-record/sign-off", doctor)
    assert signed.status_code == 200, signed.text

    written = await write(client, doctor, visit)  # the dry run, then signing its draft_sha256 (RX-07)
    assert written.status_code == 201, written.text
    first = written.json()["prescription_id"]
    await platform.after(dispatcher, *(["uploadRecipeIndicators"] if at_signing else []))
    rejected = await signed_post(client, f"/api/prescriptions/{first}/review", pharmacist,
                                 {"decision": "reject", "reasons": ["用法不清，请写明每日几次"],
                                  "reason_codes": ["ns_usage_vague"]})
    assert rejected.status_code == 200, rejected.text
    await platform.after(dispatcher, *(["uploadRecipeAuditIndicators", "uploadRecipeVerificationIndicators"]
                                       if at_signing else []))
    # The revision: the same drug written clearly, or (override) eight weeks for a stable chronic disease, which the
    # rules keep as a warning (over 4 weeks, 长期处方管理规范) the pharmacist then approves over.
    revision = (rx_body(amlodipine(days_supply=56, quantity_packs=2), long_prescription_reason="高血压病情稳定，长期用药",
                        long_prescription_code="stable_chronic_disease")
                if override
                else rx_body(amlodipine(usage="口服，每日早晨一次，每次一片")))
    revised = await checked_and_signed(client, doctor, f"/api/prescriptions/{first}/revisions", revision)
    assert revised.status_code == 201, revised.text
    rx = revised.json()["prescription_id"]
    # Each warning approved over is acknowledged with a coded reason, signed with the review (RX-06).
    warned = [i for i, f in enumerate(revised.json()["findings"]) if f["severity"] == "warn"]
    assert bool(warned) == override, revised.json()["findings"]
    approved = await signed_post(client, f"/api/prescriptions/{rx}/review", pharmacist, {
        "decision": "approve", "reasons": [],
        "acknowledgements": [{"finding": i, "reason": "quantity_justified"} for i in warned]})
    assert approved.status_code == 200, approved.text
    await platform.after(dispatcher, "uploadRecipeIndicators", "uploadRecipeVerificationIndicators",
                         *(["uploadRecipeAuditIndicators"] if at_signing else []))
    chose = await choose_delivery(client, rx)  # the patient asks for delivery (RX-08)
    assert chose.status_code == 200, chose.text
    dispensed = await client.post(f"/api/prescriptions/{rx}/dispensing", headers=pharmacist,
                                  json={"courier_kind": "third_party", "courier_name": "顺丰速运"})
    assert dispensed.status_code in (200, 201), dispensed.text
    for status in ("shipped", "delivered"):
        moved = await client.post(f"/api/dispensings/{dispensed.json()['dispensing_id']}/delivery",
                                  headers=pharmacist, json={"status": status, "tracking_number": "SF1234567890"})
        assert moved.status_code == 200, moved.text
    await platform.after(dispatcher, "uploadRecipeCirculationIndicators")
    completed = await client.post(f"/api/visits/{visit}/complete", headers=doctor)
    assert completed.status_code == 200, completed.text
    await platform.after(dispatcher, "uploadReferralIndicators", "uploadElectMedicalRecord")
    clock.advance(minutes=5)
    rated = await client.post(f"/api/visits/{visit}/rating", headers=patient, json={"score": 5, "comment": "很好"})
    assert rated.status_code == 201, rated.text
    await platform.after(dispatcher, "uploadBusinessInfoAfter")
    complained = await client.post("/api/complaints", headers=patient,
                                   json={"category": "service", "description": "等候时间较长", "visit_id": visit})
    assert complained.status_code == 201, complained.text
    await platform.after(dispatcher, "pushMedicalDispute")
    if incident:
        opened = await client.post("/api/admin/security/incidents", headers=await login_as(client, "admin"), json={
            "kind": "data_leak", "severity": "high", "leak": "suspected", "personal_information": True,
            "summary": "孙药师的工作站导出了一份含患者姓名的处方清单", "affected_subjects": 12})
        assert opened.status_code == 201, opened.text
    await deliver_all(dispatcher)
    assert {r.status for r in await fresh_outbox(settings)} <= {"sent", "skipped"}
    return platform


REFERENCE = {"uploadOrganIndicators", "uploadDrugCatalogue", "uploadDoctorIndicators", "uploadFaceVerification"}
# The day's acts, in the order they reached the platform (each right after the act).
THE_DAY = ["uploadAppointRecord", "uploadConsultIndicators", "uploadMeetClinicIndicators",
           "uploadRecipeIndicators", "uploadRecipeAuditIndicators", "uploadRecipeVerificationIndicators",
           "uploadRecipeCirculationIndicators", "uploadReferralIndicators", "uploadElectMedicalRecord",
           "uploadBusinessInfoAfter", "pushMedicalDispute"]


async def test_a_scripted_real_day_reaches_the_platform_as_it_happens_in_order_with_no_risk_warning(
    client: AsyncTestClient[Any], clock: FakeClock, demo: None, settings: Settings, sim: Sim,
    dispatchers: DispatcherFactory
) -> None:
    platform = await a_scripted_day(client, clock, settings, sim, dispatchers)
    before = platform.order[:platform.order.index("uploadAppointRecord")]
    assert set(before) >= REFERENCE  # the institution, catalogue, staff and faces before any business record
    assert "openDoctorBusiness" in before  # the demo's schedules and this day's, as each was published
    assert [m for m in platform.order if m in THE_DAY] == THE_DAY
    opened = [r["record"] for r in await sim.records("openDoctorBusiness")]
    assert any(o["doctorName"] == DOCTOR["real_name"] and o["businessStatus"] == "1" for o in opened)
    assert await sim.warnings() == [], [w["message"] for w in await sim.warnings()]
    # Both prescriptions at signing, the rejected one and its revision; each review with who signed it and why.
    audits = {r["record"]["auditStatus"]: r["record"] for r in await sim.records("uploadRecipeAuditIndicators")}
    assert len(await sim.records("uploadRecipeIndicators")) == 2 and set(audits) == {"0", "1"}
    assert audits["0"]["auditDoctor"] == PHARMACIST["real_name"] and audits["0"]["auditDoctorSign"].count(".") == 2
    assert audits["0"]["rationalFlag"] == "0" and "RX-06" in audits["0"]["rationalIssues"]
    assert [r["record"]["consultStatus"] for r in await sim.records("uploadConsultIndicators")] == ["1", "2"]
    states = [r["record"]["deliveryStatus"] for r in await sim.records("uploadRecipeCirculationIndicators")]
    assert states == ["dispensed", "shipped", "delivered"]


async def test_approving_over_warnings_and_a_security_incident_leave_risk_warnings_on_the_platform(
    client: AsyncTestClient[Any], clock: FakeClock, demo: None, settings: Settings, sim: Sim,
    dispatchers: DispatcherFactory
) -> None:
    await a_scripted_day(client, clock, settings, sim, dispatchers, override=True, incident=True)
    checks = sorted(w["check"] for w in await sim.warnings())
    assert checks == ["reported_overridden_warning", "reported_security_incident"], checks
    warnings = [r["record"] for r in await sim.records("pushMedicalDispute") if r["record"]["businessType"] == "3"]
    # Sealed where they name people: the incident's narrative and the findings' messages stay in the hospital.
    assert warnings and not any("孙药师" in json.dumps(w, ensure_ascii=False) for w in warnings)
    approved = next(r["record"] for r in await sim.records("uploadRecipeAuditIndicators")
                    if r["record"]["auditStatus"] == "1")
    assert approved["rationalFlag"] == "0" and approved["rationalIssues"]  # the warning it was approved over
    recipes = [r["record"] for r in await sim.records("uploadRecipeIndicators")]
    # Eight weeks with its reason: no over_quantity (a long prescription for a chronic disease, ≤ 12 weeks).
    assert recipes[-1]["longRecipeReason"] and recipes[-1]["orderList"][0]["useDays"] == 56


async def test_in_zhejiang_a_prescription_reaches_the_platform_only_when_approved(
    client: AsyncTestClient[Any], clock: FakeClock, demo: None, settings: Settings, sim: Sim,
    dispatchers: DispatcherFactory
) -> None:
    platform = await a_scripted_day(client, clock, settings, sim, dispatchers, province="zhejiang")
    recipes = [r["record"] for r in await sim.records("uploadRecipeIndicators")]
    assert len(recipes) == 1 and recipes[0]["auditDoctor"] == PHARMACIST["real_name"]  # the approved one only
    assert await sim.records("uploadRecipeAuditIndicators") == []
    assert platform.order.index("uploadRecipeIndicators") > platform.order.index("uploadMeetClinicIndicators")
    assert await sim.warnings() == [], [w["message"] for w in await sim.warnings()]


async def test_records_the_regulator_would_flag_are_flagged_and_a_long_prescription_with_its_reason_is_not(
    client: AsyncTestClient[Any], clock: FakeClock, demo: None, settings: Settings, sim: Sim,
    dispatchers: DispatcherFactory
) -> None:
    people = await demo_people(settings)  # doctor.wang and pharmacist.li, admitted by the demo
    doctor = await admit_and_verify(client, DOCTOR, "alex1.jpg", "alex2.jpg")
    pharmacist = await admit_and_verify(client, PHARMACIST, "kit1.jpg", "kit2.jpg")
    dispatcher = await dispatchers()
    async with dispatcher.session() as session:
        await file_catalogue(session)
    unverified = await admitted_unverified(client)
    await a_whole_visit(client, clock)  # doctor.wang and pharmacist.li, face-verified in it
    visit = next(e.subject_id for e in await fresh_outbox(settings) if e.event_type == "visit.completed")
    await deliver_all(dispatcher)
    assert await sim.warnings() == [], [w["message"] for w in await sim.warnings()]

    # What the regulator would flag: a visit by a doctor who has not verified today (doctor.qian); four weeks
    # without a long-prescription reason (28 days with one is lawful for a chronic disease); a diagnosis that is not
    # the visit's; a prescription issued before its visit began (and before its doctor's face verification). A
    # prescription with a warning goes with rationalFlag 0 and the warning coded, which the platform finds consistent.
    # (A dispensing before its approval and a reviewer signing under another name cannot leave the connector: the
    # simulator's checks for them are in tests/unit/supervision/test_checks.py.)
    now = datetime.now(UTC)
    flagged_visit, long_rx, lawful_rx, other_rx, warned_rx, early_rx = (str(uuid.uuid4()) for _ in range(6))
    doctor_staff, pharmacist_staff = await staff_id_of(settings, doctor), await staff_id_of(settings, pharmacist)
    four_weeks = {"items": [payloads.prescription_item(days=28, quantity_packs=1)]}
    reasoned = {**four_weeks, "long_prescription_reason": "高血压病情稳定，长期用药"}

    def rx(rx_id: str, at: datetime = now, **changes: Any) -> tuple[str, str, str, Any]:
        return ("prescription.submitted", "prescription", rx_id,
                payloads.prescription_submitted(rx_id, visit, people.patient_id, doctor_staff, at, **changes))

    def review(rx_id: str, **changes: Any) -> tuple[str, str, str, Any]:
        return ("prescription.approved", "prescription", rx_id, payloads.reviewed(rx_id, pharmacist_staff, now,
                                                                                   **changes))

    await emit_all(settings, [
        ("visit.completed", "visit", flagged_visit,
         payloads.revisit_record(flagged_visit, people.patient_id, unverified, now)),
        rx(long_rx, document_changes=four_weeks, findings=[]), review(long_rx, findings=[]),
        rx(lawful_rx, document_changes=reasoned, findings=[]), review(lawful_rx, findings=[]),
        rx(other_rx, document_changes={"icd10": "J45"}, findings=[]), review(other_rx, findings=[]),
        rx(warned_rx), review(warned_rx),
        rx(early_rx, at=now - timedelta(hours=1), findings=[]),
    ])
    await deliver_all(dispatcher)
    flags = {(w["check"], w["businessId"]) for w in await sim.warnings()}
    assert flags == {("unverified_clinician", flagged_visit), ("over_quantity", long_rx),
                     ("diagnosis_mismatch", other_rx), ("prescription_before_visit", early_rx),
                     ("unverified_clinician", early_rx)}, flags
