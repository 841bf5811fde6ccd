"""Issue 16 over HTTP on both databases: the exclusions (REV-03) read from reviewed tables at filing, booking,
acceptance and in the record; the diagnosis name read against its code's title (REV-02); the record's
diagnosis tied to the prior disease (REV-04); the prior diagnosis as evidence (REV-01)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry, open_detail
from hospital.core.blobs import Blob
from hospital.patients.models import Patient
from hospital.visits.booking.models import Schedule, Visit
from hospital.visits.intake.models import PriorDiagnosisContent, PriorDiagnosisRecord, open_prior, sealed_prior
from tests.conftest import FakeClock
from tests.helpers import count_rows, hospital_today, login_as
from tests.integration.prescriptions.conftest import checked_and_signed, rx_body
from tests.integration.visits.journey import (
    EMR,
    accept,
    book,
    demo_prior_id,
    doctor_in_session,
    file_prior,
    new_patient,
    schedule_of,
    verified,
)
from tests.signing import signed_post

EMERGENCIES = [("I49.0", "心室颤动"), ("K92.2", "消化道出血"), ("E11.1", "2型糖尿病伴酮症酸中毒"),
               ("N17.9", "急性肾衰竭"), ("T40.1", "海洛因中毒"), ("O42.0", "胎膜早破")]


async def _record_filed_before_the_tables_changed(session: AsyncSession, ctx: HospitalContext, code: str,
                                                  name: str) -> str:
    """A prior diagnosis on file from before the exclusion table listed its code (filing refuses it now)."""
    record = (await session.execute(select(PriorDiagnosisRecord))).scalars().first()
    assert record is not None
    demo = open_prior(ctx.cipher, record)
    prior = sealed_prior(ctx.cipher, PriorDiagnosisContent(code, code[:3], name, demo.institution_name,
                                                           demo.institution_registration_number),
                         patient_id=demo.patient_id, document_type="outpatient_record", diagnosed_on=demo.diagnosed_on,
                         document_sha256=demo.document_sha256, document_content_type=demo.document_content_type)
    session.add(prior)
    await session.commit()
    return str(prior.id)


async def test_emergencies_poisoning_and_obstetric_emergencies_are_neither_filed_nor_booked(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    patient = await login_as(client, "patient")
    before = await count_rows(session, PriorDiagnosisRecord, Blob, AuditEntry)
    for code, name in EMERGENCIES:
        refused = await file_prior(client, patient, icd10_code=code, diagnosis_name=name)
        assert refused.status_code == 422, (code, refused.text)
        assert refused.json()["rule_id"] == "REV-03" and refused.json()["kind"] == "critical_emergency", code
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert await count_rows(session, PriorDiagnosisRecord, Blob, AuditEntry) == before
    schedule = (await schedule_of(client))["schedule_id"]
    priors = [await _record_filed_before_the_tables_changed(session, ctx, code, name) for code, name in EMERGENCIES]
    before = await count_rows(session, Visit, Schedule, AuditEntry)
    for (code, _), prior in zip(EMERGENCIES, priors, strict=True):
        refused = await book(client, patient, schedule, prior)
        assert refused.status_code == 422 and refused.json()["rule_id"] == "REV-03", (code, refused.text)
    assert await count_rows(session, Visit, Schedule, AuditEntry) == before


async def test_a_booked_visit_whose_condition_the_tables_now_exclude_is_not_accepted(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    patient = await login_as(client, "patient")
    prior_id = await demo_prior_id(client, patient)
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], prior_id)
    assert booked.status_code == 201, booked.text
    prior = (await session.execute(select(PriorDiagnosisRecord))).scalars().first()
    assert prior is not None
    opened = open_prior(ctx.cipher, prior)  # as if the record had said so
    prior.content_sealed = sealed_prior(ctx.cipher, PriorDiagnosisContent(
        "I47.2", "I47", "室性心动过速", opened.institution_name, opened.institution_registration_number),
        id=prior.id).content_sealed
    await session.commit()
    refused = await accept(client, await doctor_in_session(client), booked.json()["visit_id"])
    assert refused.status_code == 422 and refused.json()["rule_id"] == "REV-03", refused.text
    assert (await client.get(f"/api/visits/{booked.json()['visit_id']}", headers=patient)).json()["state"] == "requested"


async def test_sars_named_under_j12_8_is_refused_and_another_mismatch_is_resolved_by_the_doctor(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    patient = await login_as(client, "patient")
    before = await count_rows(session, PriorDiagnosisRecord, Blob)
    sars = await file_prior(client, patient, icd10_code="J12.8", diagnosis_name="传染性非典型肺炎")
    assert sars.status_code == 422 and sars.json()["rule_id"] == "REV-03", sars.text
    assert "U04" in sars.json()["detail"] and sars.json()["kind"] == "managed_as_class_a"
    assert await count_rows(session, PriorDiagnosisRecord, Blob) == before
    viral = await file_prior(client, patient, icd10_code="J12.8", diagnosis_name="病毒性肺炎")
    assert viral.status_code == 201 and viral.json()["name_finding"] is None
    mismatch = await file_prior(client, patient, icd10_code="I10", diagnosis_name="2型糖尿病")
    assert mismatch.status_code == 201, mismatch.text
    assert "原发性高血压" in mismatch.json()["name_finding"]
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"],
                        mismatch.json()["prior_diagnosis_id"])
    assert booked.status_code == 201, booked.text
    audit = (await session.execute(select(AuditEntry).where(AuditEntry.action == "visit.booked"))).scalars().all()
    assert all("findings" not in a.detail for a in audit)  # clinical: sealed in the entry (REC-03)
    assert any("原发性高血压" in " ".join(open_detail(a, ctx.cipher).get("findings", [])) for a in audit)
    await session.rollback()
    doctor = await doctor_in_session(client)
    visit_id = booked.json()["visit_id"]
    unresolved = await accept(client, doctor, visit_id)
    assert unresolved.status_code == 422 and unresolved.json()["rule_id"] == "REV-02", unresolved.text
    resolved = await client.post(f"/api/visits/{visit_id}/accept", headers=doctor, json={
        "revisit_confirmed": True, "name_resolution": "门诊病历诊断为原发性高血压，患者填写名称有误，编码 I10 正确"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["name_resolution"]["resolution"].startswith("门诊病历诊断为原发性高血压")


async def _running_visit(client: AsyncTestClient[Any]) -> tuple[dict[str, str], dict[str, str], str]:
    patient = await login_as(client, "patient")
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text
    doctor = await doctor_in_session(client)
    visit_id = booked.json()["visit_id"]
    assert (await accept(client, doctor, visit_id)).status_code == 200
    assert (await client.post(f"/api/visits/{visit_id}/start", headers=doctor)).status_code == 200
    return patient, doctor, visit_id


async def test_a_record_diagnosis_of_cholera_in_a_hypertension_visit_stops_the_visit(
    client: AsyncTestClient[Any], session: AsyncSession, clock: FakeClock, demo: None
) -> None:
    patient, doctor, visit_id = await _running_visit(client)
    written = await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor,
                               json={**EMR, "diagnosis_icd10": "A00.9", "diagnosis_name": "霍乱"})
    assert written.status_code == 200, written.text
    visit = (await client.get(f"/api/visits/{visit_id}", headers=doctor)).json()
    assert visit["stopped"]["rule_id"] == "REV-03" and visit["stopped"]["icd10_code"] == "A00.9"
    assert visit["infectious_flag"]["disease_zh"] == "霍乱"  # and reported as a class A infection
    stopped = (await session.execute(select(AuditEntry).where(AuditEntry.action == "visit.stopped"))).scalars().all()
    assert len(stopped) == 1 and stopped[0].rule_id == "REV-03"
    await session.rollback()
    doctor = await verified(client, await login_as(client, "doctor"), "obama3.jpg")
    signed = await signed_post(client, f"/api/visits/{visit_id}/medical-record/sign-off", doctor)
    assert signed.status_code == 200, signed.text  # the record of what was found is kept and signed
    before = await count_rows(session, Visit, AuditEntry)
    for refused in (await client.post(f"/api/visits/{visit_id}/complete", headers=doctor),
                    await checked_and_signed(client, doctor, f"/api/visits/{visit_id}/prescriptions", rx_body())):
        assert refused.status_code == 422 and refused.json()["rule_id"] == "REV-03", refused.text
    assert await count_rows(session, Visit, AuditEntry) == before
    ended = await client.post(f"/api/visits/{visit_id}/terminate", headers=doctor, json={
        "reason": "suspected_infectious", "suspected_icd10": "A00.9",
        "referral": {"institution": "示范市传染病医院", "advice": "立即前往发热/肠道门诊"}})
    assert ended.status_code == 200 and ended.json()["state"] == "terminated", ended.text
    assert (await client.get(f"/api/visits/{visit_id}", headers=patient)).json()["state"] == "terminated"


async def test_a_record_name_that_disagrees_with_its_code_is_refused(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    _, doctor, visit_id = await _running_visit(client)
    refused = await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor,
                               json={**EMR, "diagnosis_icd10": "I10", "diagnosis_name": "2型糖尿病"})
    assert refused.status_code == 422 and refused.json()["rule_id"] == "REV-02", refused.text


async def test_a_visit_completes_only_on_the_prior_disease_or_a_coded_complication(
    client: AsyncTestClient[Any], session: AsyncSession, clock: FakeClock, demo: None
) -> None:
    _, doctor, visit_id = await _running_visit(client)
    written = await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor,
                               json={**EMR, "diagnosis_icd10": "J20.9", "diagnosis_name": "急性支气管炎"})
    assert written.status_code == 200, written.text
    assert (await signed_post(client, f"/api/visits/{visit_id}/medical-record/sign-off", doctor)).status_code == 200
    before = await count_rows(session, Visit, AuditEntry)
    refused = await client.post(f"/api/visits/{visit_id}/complete", headers=doctor)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "REV-04", refused.text
    assert "J20.9" in refused.json()["detail"] and refused.json()["prior_icd10"] == "I10"
    assert await count_rows(session, Visit, AuditEntry) == before
    # the same disease progressing, coded as a complication (I11.0 hypertensive heart disease), completes
    _, doctor, second = await _running_visit_of_new_patient(client)
    written = await client.put(f"/api/visits/{second}/medical-record", headers=doctor,
                               json={**EMR, "diagnosis_icd10": "I11.0", "diagnosis_name": "高血压性心脏病"})
    assert written.status_code == 200, written.text
    assert (await signed_post(client, f"/api/visits/{second}/medical-record/sign-off", doctor)).status_code == 200
    completed = await client.post(f"/api/visits/{second}/complete", headers=doctor)
    assert completed.status_code == 200 and completed.json()["state"] == "completed", completed.text


async def _running_visit_of_new_patient(client: AsyncTestClient[Any]) -> tuple[dict[str, str], dict[str, str], str]:
    patient = await new_patient(client, "孙八", date(1960, 8, 8), "13911110016")
    filed = await file_prior(client, patient)
    assert filed.status_code == 201, filed.text
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], filed.json()["prior_diagnosis_id"])
    assert booked.status_code == 201, booked.text
    doctor = await doctor_in_session(client)
    visit_id = booked.json()["visit_id"]
    assert (await accept(client, doctor, visit_id)).status_code == 200
    assert (await client.post(f"/api/visits/{visit_id}/start", headers=doctor)).status_code == 200
    return patient, doctor, visit_id


async def test_the_prior_diagnosis_is_evidence_an_online_institution_or_an_impossible_date_is_refused(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    patient = await new_patient(client, "周九", date(1990, 9, 9), "13911110017")
    before = await count_rows(session, PriorDiagnosisRecord, Blob, AuditEntry)
    cases: list[dict[str, str]] = [
        {"institution_name": "示范互联网医院"}, {"institution_name": "XX 互联网医院"},
        {"institution_kind": "internet_hospital"},
        {"diagnosed_on": "1800-01-01"}, {"diagnosed_on": "1990-09-08"},  # before the patient was born
        {"diagnosed_on": (hospital_today() + timedelta(days=1)).isoformat()},
        {"institution_registration_number": "12345"},
        {"institution_registration_number": "42502766431011511A1001"},  # the check character is wrong
        {"institution_registration_number": "42502766331011511A100😀"},
    ]
    for changes in cases:
        refused = await file_prior(client, patient, changes=changes)
        assert refused.status_code == 422, (changes, refused.text)
        assert refused.json()["rule_id"] == "REV-01", (changes, refused.text)
    missing = await file_prior(client, patient, changes={"institution_registration_number": ""})
    assert missing.status_code in (400, 422) and "institution_registration_number" in missing.text
    assert await count_rows(session, PriorDiagnosisRecord, Blob, AuditEntry) == before
    filed = await file_prior(client, patient, diagnosed_on="1990-09-09")  # the day of birth is possible
    assert filed.status_code == 201, filed.text
    assert filed.json()["institution_kind"] == "physical"
    assert filed.json()["institution_registration_number"] == "42502766331011511A1001"
    row = await session.get(PriorDiagnosisRecord, uuid.UUID(filed.json()["prior_diagnosis_id"]))
    assert row is not None and b"42502766331011511A1001" not in row.content_sealed  # sealed at rest (REC-03)
    assert open_prior(ctx.cipher, row).institution_registration_number == "42502766331011511A1001"
    assert row.institution_kind == "physical"
    patient_row = (await session.execute(select(Patient).where(Patient.real_name == "周九"))).scalar_one()
    assert patient_row.birth_date == date(1990, 9, 9)


async def test_the_doctor_opens_the_document_before_confirming_the_revisit(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    patient = await login_as(client, "patient")
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], await demo_prior_id(client, patient))
    doctor = await doctor_in_session(client)
    visit_id = booked.json()["visit_id"]
    before = await count_rows(session, Visit, AuditEntry)
    unread = await accept(client, doctor, visit_id, read_first=False)
    assert unread.status_code == 422 and unread.json()["rule_id"] == "REV-04", unread.text
    assert "document" in unread.json()["detail"]
    assert await count_rows(session, Visit, AuditEntry) == before
    assert (await accept(client, doctor, visit_id)).status_code == 200  # opened (audited), then accepted
