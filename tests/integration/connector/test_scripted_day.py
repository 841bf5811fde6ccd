"""A scripted day at the hospital, delivered to the simulated platform (SUP-01…04): the platform ends with a
complete, consistent picture and no risk warnings; records the regulator would flag are flagged.

Everything runs through the real API: the demo hospital, admitting a doctor and a pharmacist, their face
verifications, and a whole visit (booked, accepted, record signed, prescription approved and shipped, visit
completed, rated, a complaint escalated, an adverse event). Only the records the regulator should flag are
emitted directly (typed payloads, tests/payloads.py), since the hospital's own rules refuse to produce them.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from litestar.testing import AsyncTestClient

from connectors.supervision.catalogue import file_catalogue
from hospital.config import Settings
from hospital.demo import faces_dir
from tests import payloads
from tests.conftest import FakeClock
from tests.faces import face_bytes
from tests.helpers import login, login_as
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


def photo(name: str) -> bytes:
    return (faces_dir() / name).read_bytes()


DOCTOR = {"kind": "doctor", "username": "doctor.zhou", "initial_password": "zhou-pass-2026", "real_name": "周医生",
          "id_number": "110105199009093412", "title": "主治医师", "clinical_years": 5, "departments": ["03.03"],
          "credentials": [{"kind": "physician_qualification", "number": "2012310001"},
                          {"kind": "physician_practice", "number": "1103100009", "valid_until": "2029-12-31"}],
          "biometric_consent": True, "practice_category": "临床", "practice_scope": "内科专业",
          "practice_institution": "示范市第一人民医院"}
PHARMACIST = {"kind": "pharmacist", "username": "pharmacist.sun", "initial_password": "sun-pass-2026",
              "real_name": "孙药师", "id_number": "110105198808084411", "title": "主管药师", "clinical_years": 6,
              "departments": [], "credentials": [{"kind": "pharmacist_qualification", "number": "YS2012310009"}],
              "biometric_consent": True}


async def admit_and_verify(client: AsyncTestClient[Any], application: dict[str, Any], enrol: str, live: str
                           ) -> str:
    """Admit through the API (STAFF-01/02), then verify the face (FACE-02); returns the user id."""
    admin = await login_as(client, "admin")
    admitted = await client.post("/api/staff", headers=admin, data={"application": json.dumps(application)},
                                 files={"photo": ("photo.jpg", face_bytes(enrol), "image/jpeg")})
    assert admitted.status_code == 201, admitted.text
    headers = await login(client, application["username"], application["initial_password"])
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


async def test_a_scripted_day_leaves_the_platform_complete_and_flags_what_the_regulator_would(
    client: AsyncTestClient[Any], clock: FakeClock, demo: None, settings: Settings, sim: Sim,
    dispatchers: DispatcherFactory
) -> None:
    people = await demo_people(settings)  # doctor.wang and pharmacist.li, admitted by the demo, never verified today
    doctor = await admit_and_verify(client, DOCTOR, "alex1.jpg", "alex2.jpg")
    pharmacist = await admit_and_verify(client, PHARMACIST, "kit1.jpg", "kit2.jpg")
    dispatcher = await dispatchers()
    async with dispatcher.session() as session:
        await file_catalogue(session)

    unverified = await admitted_unverified(client)
    await a_whole_visit(client, clock)  # doctor.wang and pharmacist.li, face-verified in it
    events = await fresh_outbox(settings)
    visit = next(e.subject_id for e in events if e.event_type == "visit.completed")
    prescription = next(e.subject_id for e in events if e.event_type == "prescription.approved")
    rating = next(e.payload["rating_id"] for e in events if e.event_type == "rating.submitted")
    await deliver_all(dispatcher)

    held = {m: [r["businessId"] for r in await sim.records(m)] for m in (
        "uploadOrganIndicators", "uploadDoctorIndicators", "uploadDrugCatalogue", "uploadFaceVerification",
        "uploadAppointRecord", "uploadReferralIndicators", "uploadElectMedicalRecord", "uploadRecipeIndicators",
        "uploadRecipeAuditIndicators", "uploadRecipeCirculationIndicators", "uploadBusinessInfoAfter")}
    assert len(held["uploadDoctorIndicators"]) == 5 and len(held["uploadFaceVerification"]) == 4
    assert len(held["uploadDrugCatalogue"]) == 63 and len(held["uploadOrganIndicators"]) == 1
    assert held["uploadReferralIndicators"] == held["uploadAppointRecord"] == held["uploadElectMedicalRecord"] == [visit]
    # The review travels inside the prescription record (auditDoctor*): no separate audit record (docs/connector.md).
    assert held["uploadRecipeIndicators"] == [prescription] and held["uploadRecipeAuditIndicators"] == []
    assert held["uploadRecipeCirculationIndicators"] == [prescription] and held["uploadBusinessInfoAfter"] == [rating]
    assert await sim.warnings() == [], [w["message"] for w in await sim.warnings()]
    assert {r.status for r in await fresh_outbox(settings)} <= {"sent", "skipped"}

    # What the regulator would flag: a visit by a doctor who has not verified today (doctor.qian), a chronic
    # prescription for 28 days (the platform's 7-day rule; the hospital allows long prescriptions for chronic
    # disease), and a prescription whose diagnosis is not the revisit's.
    now = datetime.now(UTC)
    flagged_visit, long_rx, other_rx = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    doctor_staff, pharmacist_staff = await staff_id_of(settings, doctor), await staff_id_of(settings, pharmacist)
    four_weeks = {"items": [payloads.prescription_item(days=28, quantity_packs=1)]}
    await emit_all(settings, [
        ("visit.completed", "visit", flagged_visit,
         payloads.revisit_record(flagged_visit, people.patient_id, unverified, now)),
        ("prescription.submitted", "prescription", long_rx,
         payloads.prescription_submitted(long_rx, visit, people.patient_id, doctor_staff, now,
                                         document_changes=four_weeks)),
        ("prescription.approved", "prescription", long_rx, payloads.reviewed(long_rx, pharmacist_staff, now)),
        ("prescription.submitted", "prescription", other_rx,
         payloads.prescription_submitted(other_rx, visit, people.patient_id, doctor_staff, now,
                                         document_changes={"icd10": "J45"})),
        ("prescription.approved", "prescription", other_rx, payloads.reviewed(other_rx, pharmacist_staff, now)),
    ])
    await deliver_all(dispatcher)
    flags = {(w["check"], w["businessId"]) for w in await sim.warnings()}
    assert flags == {("unverified_clinician", flagged_visit), ("over_quantity", long_rx),
                     ("diagnosis_mismatch", other_rx)}
