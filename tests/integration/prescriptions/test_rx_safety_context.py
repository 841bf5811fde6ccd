"""The patient's safety context (RX-04) on the real path: stated by the patient, confirmed or corrected by the
doctor, versioned and audited; the prescription rules read it (allergies, pregnancy, a child's weight), and
nothing is prescribed without an allergy statement. Through the HTTP API, both databases."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.core.outbox import OutboxEvent
from hospital.prescriptions.models import Prescription, PrescriptionCheck
from hospital.prescriptions.safety.models import PatientSafetyContext
from hospital.visits.booking.models import Visit
from tests.helpers import count_rows, login_as
from tests.integration.prescriptions.conftest import (
    amlodipine,
    make_visit,
    reviewing_pharmacist,
    rx_body,
    signing_doctor,
    write,
)

TABLES = (Prescription, PrescriptionCheck, AuditEntry, OutboxEvent)
AMOXICILLIN = {"drug_code": "J01CA04-cap-250mg", "dose_per_time": "500", "times_per_day": 3, "days_supply": 5,
               "quantity_packs": 1, "usage": "口服"}
VALSARTAN = {"drug_code": "C09CA03-cap-80mg", "dose_per_time": "80", "times_per_day": 1, "days_supply": 7,
             "quantity_packs": 1, "usage": "口服"}


async def _state(client: AsyncTestClient[Any], patient: dict[str, str] | None = None, **context: Any) -> Any:
    headers = patient or await login_as(client, "patient")
    return await client.put("/api/me/safety-context", headers=headers, json=context)


async def test_nothing_is_prescribed_while_the_visit_has_no_allergy_statement(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    visit = await make_visit(session, ctx, allergy_statement=False)
    doctor = await signing_doctor(client)
    checked = await client.post(f"/api/visits/{visit.id}/prescriptions/check", headers=doctor, json=rx_body())
    assert checked.json()["signable"] is False and checked.json()["rule_ids"] == ["RX-04"]
    assert "no allergy statement" in checked.text
    before = await count_rows(session, *TABLES)
    refused = await client.post(f"/api/visits/{visit.id}/prescriptions", headers=doctor,
                                json={**rx_body(), "draft_sha256": checked.json()["draft_sha256"]})
    assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-04"
    assert await count_rows(session, *TABLES) == before

    assert (await _state(client, allergy_status="no_known_allergies")).status_code == 200
    assert (await write(client, doctor, visit)).status_code == 201


async def test_an_allergy_is_stated_in_the_formularys_codes_never_as_an_empty_default(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    patient = await login_as(client, "patient")
    before = await count_rows(session, PatientSafetyContext, AuditEntry)
    for body, status in (({}, 400),  # no statement at all
                         ({"allergy_status": "allergies", "allergies": []}, 422),
                         ({"allergy_status": "allergies", "allergies": ["青霉素过敏，起皮疹"]}, 422),  # free text
                         ({"allergy_status": "no_known_allergies", "allergies": ["penicillins"]}, 422)):
        refused = await _state(client, patient, **body)
        assert refused.status_code == status, (body, refused.text)
    assert await count_rows(session, PatientSafetyContext, AuditEntry) == before
    vocabulary = (await client.get("/api/safety-context/vocabulary", headers=patient)).json()
    assert {"penicillins", "amoxicillin", "statins"} <= set(vocabulary)


async def test_amoxicillin_is_refused_to_a_patient_with_a_recorded_penicillin_allergy(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    visit = await make_visit(session, ctx, icd10="J02.9", allergy_statement=False)
    assert (await _state(client, allergy_status="allergies", allergies=["Penicillins"])).status_code == 200
    doctor = await signing_doctor(client)
    before = await count_rows(session, Prescription)

    refused = await write(client, doctor, visit, rx_body(AMOXICILLIN, diagnoses=(("J02.9", "急性咽炎"),)))

    assert refused.status_code == 422 and "RX-04" in refused.json()["rule_ids"], refused.text
    assert "allergic to 'penicillins'" in refused.text
    assert await count_rows(session, Prescription) == before


async def test_a_drug_contraindicated_in_pregnancy_is_refused_and_a_caution_goes_to_the_pharmacist(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, visit: Visit
) -> None:
    assert (await _state(client, allergy_status="no_known_allergies", pregnancy="pregnant")).status_code == 200
    doctor = await signing_doctor(client)

    refused = await write(client, doctor, visit, rx_body(VALSARTAN))
    cautioned = await write(client, doctor, visit, rx_body(amlodipine()))

    assert refused.status_code == 422 and "contraindicated in pregnancy" in refused.text, refused.text
    assert cautioned.status_code == 201, cautioned.text
    rx = cautioned.json()
    assert any(f["severity"] == "warn" and "caution in pregnancy" in f["message"] for f in rx["findings"])
    # the pharmacist sees the context the rules read, beside the queue item
    queued = (await client.get("/api/reviews/queue", headers=await reviewing_pharmacist(client))).json()
    assert queued[0]["safety_context"]["pregnancy"] == "pregnant"
    assert queued[0]["safety_context"]["allergy_status"] == "no_known_allergies"


async def test_the_doctor_confirms_or_corrects_the_statement_as_new_audited_versions(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, visit: Visit
) -> None:
    doctor = await signing_doctor(client)
    confirmed = await client.post(f"/api/visits/{visit.id}/safety-context", headers=doctor, json={})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["version"] == 2 and confirmed.json()["confirmed_by_doctor"] is True
    corrected = await client.post(f"/api/visits/{visit.id}/safety-context", headers=doctor, json={
        "correction": {"allergy_status": "allergies", "allergies": ["sulfonamides"], "renal": "moderate"}})
    assert corrected.status_code == 200 and corrected.json()["version"] == 3, corrected.text
    mine = (await client.get("/api/me/safety-context", headers=await login_as(client, "patient"))).json()
    assert mine["allergies"] == ["sulfonamides"] and mine["recorded_by_role"] == "doctor"
    actions = [e.action for e in (await session.execute(select(AuditEntry).where(
        AuditEntry.subject_type == "patient_safety_context"))).scalars()]
    assert actions == ["safety_context.confirmed", "safety_context.confirmed", "safety_context.read"]
    rows = (await session.execute(select(PatientSafetyContext))).scalars().all()
    assert sorted(r.version for r in rows) == [1, 2, 3]  # every version kept
    assert all(b"sulfonamides" not in r.content_sealed for r in rows)  # sealed at rest (REC-03)


async def test_a_childs_dose_is_checked_per_kg_of_the_weight_recorded_in_this_visit(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    from hospital.patients.models import Patient

    patient = (await session.execute(select(Patient))).scalars().one()
    patient.birth_date = ctx.now().date().replace(year=ctx.now().year - 8)
    session.add(patient)
    await session.commit()
    visit = await make_visit(session, ctx, icd10="J02.9", guardian={"name": "张母", "relation": "mother"})
    doctor = await signing_doctor(client)
    amoxicillin = rx_body({**AMOXICILLIN, "dose_per_time": "250"}, diagnoses=(("J02.9", "急性咽炎"),))

    unweighed = await write(client, doctor, visit, amoxicillin)
    assert unweighed.status_code == 422 and "record the child's weight" in unweighed.text
    weighed = await client.post(f"/api/visits/{visit.id}/safety-context", headers=doctor, json={
        "correction": {"allergy_status": "no_known_allergies", "weight_kg": "15"}})
    assert weighed.status_code == 200, weighed.text
    over = await write(client, doctor, visit, amoxicillin)  # 750 mg a day > 40 mg/kg × 15 kg
    assert over.status_code == 422 and "exceeds 40 mg/kg for 15 kg" in over.text, over.text
    within = await write(client, doctor, visit, rx_body({**AMOXICILLIN, "dose_per_time": "250", "times_per_day": 2},
                                                         diagnoses=(("J02.9", "急性咽炎"),)))
    assert within.status_code == 201, within.text


async def test_a_restricted_antimicrobial_needs_a_doctor_of_that_grade_recorded_at_admission(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    from hospital.staff.models import StaffMember

    doctor_row = (await session.execute(select(StaffMember).where(StaffMember.kind == "doctor"))).scalars().one()
    assert (doctor_row.title, doctor_row.antimicrobial_grade) == ("主任医师", "special")  # by title, at admission
    visit = await make_visit(session, ctx, icd10="J20.9")
    moxifloxacin = rx_body({"drug_code": "J01MA14-tab-400mg", "dose_per_time": "400", "times_per_day": 1,
                            "days_supply": 5, "quantity_packs": 2, "usage": "口服"}, diagnoses=(("J20.9", "急性支气管炎"),))
    doctor = await signing_doctor(client)
    for grade, allowed in (("unrestricted", False), ("none", False), ("restricted", True)):
        doctor_row.antimicrobial_grade = grade
        session.add(doctor_row)
        await session.commit()
        written = await write(client, doctor, visit, moxifloxacin)
        if allowed:
            assert written.status_code == 201, written.text
        else:
            assert written.status_code == 422 and "antimicrobial grade" in written.text, (grade, written.text)
            assert written.json()["rule_id"] == "RX-04"
