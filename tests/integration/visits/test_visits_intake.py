"""Issue 4 over HTTP on both databases: informed consent (PAT-02) and prior diagnoses with their documents
(REV-01, REV-02)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.core.blobs import Blob
from hospital.visits.booking.models import Visit
from hospital.visits.intake.consent_texts import CONSENT_DIR
from hospital.visits.intake.models import ConsentRecord, PriorDiagnosisRecord
from tests.helpers import count_rows, hospital_today, login_as
from tests.integration.visits.journey import book, demo_prior_id, file_prior, new_patient, pdf, schedule_of

pytestmark = pytest.mark.requirement("PAT-02", "REV-01", "REV-02")


async def test_the_consent_names_the_hospital_and_its_licence_in_chinese_and_english(client: AsyncTestClient[Any],
                                                                                     demo: None) -> None:
    consent = (await client.get("/api/consent")).json()
    assert consent["version"] == "v2" and len(consent["text_sha256"]) == 64
    assert "PDY0001-310115-DEMO" in consent["zh"] and "PDY0001-310115-DEMO" in consent["en"]
    # PD 14: the doctors practising online, with title, scope, departments and practice certificate number
    assert "王医生，主任医师，临床 内科专业" in consent["zh"] and "110310000000001" in consent["zh"]
    assert "physician practice certificate No. 110310000000001" in consent["en"]
    assert "不提供首诊服务" in consent["zh"] and "first visit" in consent["en"].lower()
    assert "{{" not in consent["zh"] + consent["en"]


async def test_an_acceptance_keeps_the_version_time_and_client_address_once(client: AsyncTestClient[Any],
                                                                           session: AsyncSession, demo: None) -> None:
    patient = await new_patient(client, "李四", date(1980, 5, 1), "13911110001", consent=False)
    before = (await client.get("/api/consent/acceptances", headers=patient)).json()
    assert before["current_accepted"] is False
    consent = (await client.get("/api/consent")).json()
    wrong_text = await client.post("/api/consent/acceptances", headers=patient,
                                   json={"version": "v2", "text_sha256": "0" * 64})
    assert wrong_text.status_code == 422 and wrong_text.json()["rule_id"] == "PAT-02"
    for _ in range(2):
        accepted = await client.post("/api/consent/acceptances", headers=patient,
                                     json={"version": "v2", "text_sha256": consent["text_sha256"]})
        assert accepted.status_code == 201 and accepted.json()["client_address"]
    rows = (await session.execute(select(ConsentRecord))).scalars().all()
    mine = [r for r in rows if r.text_sha256 == consent["text_sha256"] and r.client_address == "testclient"]
    assert len(mine) == 1 and mine[0].version == "v2"
    audited = (await session.execute(select(AuditEntry).where(AuditEntry.action == "consent.accepted"))).scalars().all()
    assert audited[-1].rule_id == "PAT-02" and audited[-1].detail["client_address"] == "testclient"
    assert (await client.get("/api/consent/acceptances", headers=patient)).json()["current_accepted"] is True


async def test_a_patient_without_consent_can_neither_file_nor_book(client: AsyncTestClient[Any], session: AsyncSession,
                                                                   demo: None) -> None:
    patient = await new_patient(client, "王五", date(1975, 3, 3), "13911110002", consent=False)
    demo_patient_prior = await demo_prior_id(client, await login_as(client, "patient"))
    before = await count_rows(session, PriorDiagnosisRecord, Blob, Visit, AuditEntry)
    filed = await file_prior(client, patient)
    assert filed.status_code == 422 and filed.json()["rule_id"] == "PAT-02"
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], demo_patient_prior)
    assert booked.status_code == 422 and booked.json()["rule_id"] == "PAT-02"
    assert await count_rows(session, PriorDiagnosisRecord, Blob, Visit, AuditEntry) == before


async def test_a_new_consent_version_requires_a_new_acceptance(client: AsyncTestClient[Any], ctx: HospitalContext,
                                                               session: AsyncSession, tmp_path: Path,
                                                               demo: None) -> None:
    patient = await login_as(client, "patient")  # accepted v2 in the demo
    texts = tmp_path / "consent"
    shutil.copytree(CONSENT_DIR, texts)
    for language in ("zh", "en"):
        (texts / f"consent_v3.{language}.md").write_text(
            (CONSENT_DIR / f"consent_v2.{language}.md").read_text(encoding="utf-8").replace("v2", "v3"), encoding="utf-8")
    ctx.consent_dir = texts
    schedule = await schedule_of(client)
    prior_id = await demo_prior_id(client, patient)
    before = await count_rows(session, Visit, AuditEntry)
    refused = await book(client, patient, schedule["schedule_id"], prior_id)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "PAT-02"
    assert refused.json()["current_version"] == "v3" and refused.json()["accepted_version"] == "v2"
    assert await count_rows(session, Visit, AuditEntry) == before  # refused under the outdated version: nothing kept
    old = await client.post("/api/consent/acceptances", headers=patient, json={"version": "v2"})
    assert old.status_code == 422 and old.json()["rule_id"] == "PAT-02"
    assert (await client.post("/api/consent/acceptances", headers=patient, json={"version": "v3"})).status_code == 201
    booked = await book(client, patient, schedule["schedule_id"], await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text


async def test_a_prior_diagnosis_is_kept_with_its_document_encrypted_and_only_its_patient_reads_it(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    patient = await login_as(client, "patient")
    document = pdf("Discharge summary with a recognisable phrase")
    filed = await file_prior(client, patient, document=document, icd10_code="E11.9", diagnosis_name="2型糖尿病",
                             document_type="discharge_summary")
    assert filed.status_code == 201, filed.text
    body = filed.json()
    assert body["icd10_code"] == "E11.9" and body["document_content_type"] == "application/pdf"
    stored = ctx.blob_store()._path(body["document_sha256"]).read_bytes()
    assert b"recognisable phrase" not in stored and len(stored) > len(document)  # sealed at rest (REC-03)
    blob = await session.get(Blob, body["document_sha256"])
    assert blob is not None and blob.retention_class == "medical_record"
    assert blob.purge_not_before.year == ctx.now().year + 15 or blob.purge_not_before.year == ctx.now().year + 16
    read = await client.get(f"/api/prior-diagnoses/{body['prior_diagnosis_id']}/document", headers=patient)
    assert read.status_code == 200 and read.content == document
    assert read.headers["content-type"].startswith("application/pdf")
    listed = (await client.get("/api/prior-diagnoses", headers=patient)).json()
    diabetes = next(p for p in listed if p["icd10_code"] == "E11.9")
    assert diabetes["eligibility"]["eligible"] is True and "03.07" in diabetes["eligibility"]["department_codes"]
    other = await new_patient(client, "赵六", date(1970, 1, 1), "13911110003")
    stranger = await client.get(f"/api/prior-diagnoses/{body['prior_diagnosis_id']}/document", headers=other)
    assert stranger.status_code == 404
    assert (await client.get("/api/prior-diagnoses", headers=other)).json() == []


async def test_a_diagnosis_too_old_is_listed_with_its_reason_in_both_languages(
    client: AsyncTestClient[Any], demo: None
) -> None:
    """The typed list keeps `told` (issue 14): the patient's page shows the rule's reason in its own language."""
    patient = await login_as(client, "patient")
    old = date(hospital_today().year - 3, 1, 15).isoformat()
    assert (await file_prior(client, patient, diagnosed_on=old)).status_code == 201
    listed = (await client.get("/api/prior-diagnoses", headers=patient)).json()
    eligibility = next(p for p in listed if p["diagnosed_on"] == old)["eligibility"]
    assert eligibility["eligible"] is False and eligibility["rule_id"] == "REV-02", eligibility
    assert eligibility["told"]["zh"]["title"] == "既往诊断已超过复诊有效期"
    assert "请前往实体医院重新就诊" in eligibility["told"]["zh"]["detail"]
    assert eligibility["told"]["en"]["title"] == "The prior diagnosis is too old for a revisit"


async def test_a_document_that_is_not_what_it_claims_or_too_large_is_refused_and_leaves_nothing(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    patient = await login_as(client, "patient")
    before = await count_rows(session, PriorDiagnosisRecord, Blob, AuditEntry)
    fake_pdf = await file_prior(client, patient, document=b"%PDF-1.7 but truncated, no end marker")
    assert fake_pdf.status_code == 415
    jpeg_as_pdf = await file_prior(client, patient, document=b"\xff\xd8\xff\xe0" + b"0" * 100)
    assert jpeg_as_pdf.status_code == 415 and jpeg_as_pdf.json()["detected"] == "image/jpeg"
    too_large = await file_prior(client, patient, document=b"%PDF-1.4\n" + b"0" * (9 * 1024 * 1024) + b"%%EOF")
    assert too_large.status_code == 413
    assert await count_rows(session, PriorDiagnosisRecord, Blob, AuditEntry) == before


async def test_a_diagnosis_must_be_a_real_icd10_code_from_a_physical_institution_on_a_past_date(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    patient = await login_as(client, "patient")
    before = await count_rows(session, PriorDiagnosisRecord, Blob)
    cases: list[tuple[dict[str, str], str]] = [({"icd10_code": "I99.9"}, "REV-02"), ({"icd10_code": "hypertension"}, "REV-02"),
             ({"institution_kind": "internet_hospital"}, "REV-01"), ({"diagnosed_on": "2999-01-01"}, "REV-01"),
             ({"document_type": "selfie"}, "REV-01")]
    for fields, rule_id in cases:
        refused = await file_prior(client, patient, changes=fields)
        assert refused.status_code == 422, (fields, refused.text)
        assert refused.json()["rule_id"] == rule_id, fields
    assert await count_rows(session, PriorDiagnosisRecord, Blob) == before


async def test_a_consent_version_published_after_booking_is_accepted_before_the_doctor_accepts(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, tmp_path: Path, demo: None
) -> None:
    from hospital.core.audit import AuditEntry
    from tests.helpers import count_rows
    from tests.integration.visits.journey import accept, doctor_in_session

    patient = await login_as(client, "patient")
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text
    texts = tmp_path / "consent"
    shutil.copytree(CONSENT_DIR, texts)
    for language in ("zh", "en"):
        (texts / f"consent_v3.{language}.md").write_text(
            (CONSENT_DIR / f"consent_v2.{language}.md").read_text(encoding="utf-8").replace("v2", "v3"), encoding="utf-8")
    ctx.consent_dir = texts
    doctor = await doctor_in_session(client)
    assert (await client.get(f"/api/visits/{booked.json()['visit_id']}/prior-diagnosis/document",
                             headers=doctor)).status_code == 200
    before = await count_rows(session, Visit, AuditEntry)
    refused = await accept(client, doctor, booked.json()["visit_id"], read_first=False)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "PAT-02", refused.text
    assert await count_rows(session, Visit, AuditEntry) == before
    assert (await client.post("/api/consent/acceptances", headers=patient, json={"version": "v3"})).status_code == 201
    assert (await accept(client, doctor, booked.json()["visit_id"])).status_code == 200
