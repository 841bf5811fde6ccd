"""A scripted day at the hospital, delivered to the simulated platform (SUP-01…04): the platform ends with a
complete, consistent picture and no risk warnings; records the regulator would flag are flagged.

What exists runs through the real API: the demo hospital, admitting a doctor and a pharmacist, their face
verifications. The visit, the prescription, its review, dispensing and the rating are emitted as the
contract in docs/connector.md specifies (`mapping.contract`), because those areas have not landed on this
branch: when they do, replace each `emit_all` step with the area's own API call (marked LEAD below).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from connectors.supervision.catalogue import file_catalogue
from connectors.supervision.mapping import contract as c
from hospital.config import Settings
from hospital.demo import faces_dir
from tests.helpers import login, login_as
from tests.integration.connector.conftest import (
    DispatcherFactory,
    Sim,
    deliver_all,
    demo_people,
    emit_all,
    fresh_outbox,
)


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
                                 files={"photo": ("photo.jpg", photo(enrol), "image/jpeg")})
    assert admitted.status_code == 201, admitted.text
    headers = await login(client, application["username"], application["initial_password"])
    verified = await client.post("/api/me/face-verifications", headers=headers,
                                 files={"image": ("capture.jpg", photo(live), "image/jpeg")})
    assert verified.status_code == 201, verified.text
    me = await client.get("/api/me", headers=headers)
    return str(me.json()["id"])


async def test_a_scripted_day_leaves_the_platform_complete_and_flags_what_the_regulator_would(
    client: AsyncTestClient[Any], demo: None, settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    people = await demo_people(settings)  # doctor.wang and pharmacist.li, admitted by the demo, never verified today
    doctor = await admit_and_verify(client, DOCTOR, "obama2.jpg", "obama3.jpg")
    pharmacist = await admit_and_verify(client, PHARMACIST, "obama3.jpg", "obama2.jpg")
    dispatcher = await dispatchers()
    async with dispatcher.session() as session:
        await file_catalogue(session)

    now = datetime.now(UTC)
    visit, prescription, rating = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    # LEAD: replace with the visits, prescriptions and quality APIs once they land.
    await emit_all(settings, [
        ("visit.booked", "visit", visit, c.visit_booked(visit, people.patient_id, doctor, now)),
        ("emr.signed", "visit", visit, c.emr_signed(visit, people.patient_id, doctor, now + timedelta(minutes=1))),
        ("prescription.approved", "prescription", prescription,
         c.prescription_approved(prescription, visit, people.patient_id, doctor, pharmacist, now)),
        ("review.approved", "prescription", prescription, c.review(prescription, pharmacist, now)),
        ("visit.completed", "visit", visit, c.visit_completed(visit, people.patient_id, doctor, now)),
        ("dispensing.dispensed", "prescription", prescription, c.dispensing(prescription, pharmacist, now)),
        ("rating.submitted", "rating", rating, c.rating(rating, visit, doctor, now + timedelta(minutes=30))),
    ])
    await deliver_all(dispatcher)

    held = {m: [r["businessId"] for r in await sim.records(m)] for m in (
        "uploadOrganIndicators", "uploadDoctorIndicators", "uploadDrugCatalogue", "uploadFaceVerification",
        "uploadAppointRecord", "uploadReferralIndicators", "uploadElectMedicalRecord", "uploadRecipeIndicators",
        "uploadRecipeAuditIndicators", "uploadRecipeCirculationIndicators", "uploadBusinessInfoAfter")}
    assert len(held["uploadDoctorIndicators"]) == 4 and len(held["uploadFaceVerification"]) == 2
    assert len(held["uploadDrugCatalogue"]) == 63 and len(held["uploadOrganIndicators"]) == 1
    assert held["uploadReferralIndicators"] == held["uploadAppointRecord"] == held["uploadElectMedicalRecord"] == [visit]
    assert held["uploadRecipeIndicators"] == held["uploadRecipeAuditIndicators"] == [prescription]
    assert held["uploadRecipeCirculationIndicators"] == [prescription] and held["uploadBusinessInfoAfter"] == [rating]
    assert await sim.warnings() == []
    assert {r.status for r in await fresh_outbox(settings)} <= {"sent", "skipped"}

    # What the regulator would flag: a visit by a doctor who has not verified today (doctor.wang), a chronic
    # prescription for 28 days (the platform's 7-day rule; the hospital allows long prescriptions for chronic
    # disease), and a prescription whose diagnosis is not the revisit's.
    flagged_visit, long_rx, other_rx = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    await emit_all(settings, [
        ("visit.completed", "visit", flagged_visit,
         c.visit_completed(flagged_visit, people.patient_id, people.doctor_user_id, now)),
        ("prescription.approved", "prescription", long_rx,
         c.prescription_approved(long_rx, visit, people.patient_id, doctor, pharmacist, now, days=28)),
        ("prescription.approved", "prescription", other_rx,
         c.prescription_approved(other_rx, visit, people.patient_id, doctor, pharmacist, now, icd10_code="J45")),
    ])
    await deliver_all(dispatcher)
    flags = {(w["check"], w["businessId"]) for w in await sim.warnings()}
    assert flags == {("unverified_clinician", flagged_visit), ("over_quantity", long_rx),
                     ("diagnosis_mismatch", other_rx)}
