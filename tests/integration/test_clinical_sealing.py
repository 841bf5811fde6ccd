"""REC-03 at rest, beyond the audit trail: after a day's journey through the API (a child's consent given by the
guardian, a diagnosis filed, a visit booked with the guardian, accepted, started, recorded and terminated for a
suspected infection with a referral; an adult's visit prescribed, reviewed and dispensed) a dump of every table
holds no prior-diagnosis code, name or institution, no infectious-disease flag and no guardian's name in clear,
on SQLite and PostgreSQL. The pages still show them: the field key opens them."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from hospital.app import create_app
from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.db import alembic_config, create_engine, session_factory
from hospital.demo import DEMO_INSTITUTION_REGISTRATION
from tests.helpers import hospital_today, login, login_as
from tests.integration.prescriptions.conftest import (
    reviewing_pharmacist,
    signing_doctor,
    states_no_known_allergies,
    write,
)
from tests.integration.prescriptions.helpers import dispense, review
from tests.integration.visits.journey import (
    EMR,
    accept,
    book,
    demo_prior_id,
    doctor_in_session,
    file_prior,
    new_patient,
    resident_id,
    schedule_of,
)

pytestmark = pytest.mark.requirement("REC-03")

GUARDIAN = {"name": "柳青禾", "id_number": resident_id(hospital_today() - timedelta(days=35 * 365), "246"),
            "relationship": "parent"}
PRIOR = {"icd10_code": "E10.9", "diagnosis_name": "1型糖尿病", "institution_name": "示范市妇幼保健院东院区"}
REFERRAL = {"institution": "示范市传染病专科医院", "department": "结核病门诊", "advice": "尽快线下就诊", "urgent": True}
# Nothing else in the database may say these: a guardian, a diagnosis's code, name and institution, the infectious
# disease (肺结核 is A15's notifiable disease), the termination's reason and the referral that name it, and the
# adult's demo diagnosis (its institution is the demo hospital itself, named on its licence: not a secret). Codes
# are looked for with their dot (E10.9, A15.0): a bare "I10" turns up by chance in base64 sealed text.
CLEAR = (GUARDIAN["name"], GUARDIAN["id_number"], PRIOR["icd10_code"], PRIOR["diagnosis_name"],
         PRIOR["institution_name"], "A15.0", "肺结核", "Tuberculosis", REFERRAL["institution"], REFERRAL["department"],
         "suspected_infectious", "原发性高血压", DEMO_INSTITUTION_REGISTRATION)


async def dump(session: AsyncSession) -> str:
    """Every row of every table as text; bytes as hex (a sealed value), JSON as stored. Only the tables the
    database has: after a downgrade, the tables later migrations create are not there."""
    lines = []
    present = set(await session.run_sync(lambda sync: sa.inspect(sync.connection()).get_table_names()))
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in present:
            continue
        for row in (await session.execute(sa.text(f'SELECT * FROM "{table.name}"'))).all():
            lines.append(table.name + " " + " | ".join(v.hex() if isinstance(v, bytes | memoryview) and not
                                                       isinstance(v, str) else str(v) for v in row))
    return "\n".join(lines)


def found(text: str, value: str) -> bool:
    """In clear as written, or as JSON writes it with ASCII escapes (a JSON column may hold \\u67f3...)."""
    return value in text or json.dumps(value)[1:-1] in text


async def child_visit_terminated_for_a_suspected_infection(client: AsyncTestClient[Any]) -> None:
    birth = hospital_today() - timedelta(days=4 * 365 + 30)
    child = await new_patient(client, "小禾", birth, "13911110031", consent=False)
    version = (await client.get("/api/consent")).json()["version"]
    consent = await client.post("/api/consent/acceptances", headers=child,
                                json={"version": version, "guardian": GUARDIAN})
    assert consent.status_code == 201 and consent.json()["accepted_by_guardian"]["name"] == GUARDIAN["name"]
    prior = await file_prior(client, child, **PRIOR)
    assert prior.status_code == 201 and prior.json()["institution_name"] == PRIOR["institution_name"], prior.text
    booked = await book(client, child, (await schedule_of(client, "03.07"))["schedule_id"],
                        prior.json()["prior_diagnosis_id"], guardian={**GUARDIAN, "present_confirmed": True})
    assert booked.status_code == 201, booked.text
    visit_id = booked.json()["visit_id"]
    doctor = await doctor_in_session(client)
    assert (await accept(client, doctor, visit_id)).status_code == 200
    started = await client.post(f"/api/visits/{visit_id}/start", headers=doctor,
                                json={"guardian_present_confirmed": True})
    assert started.status_code == 200, started.text
    written = await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor,
                               json={**EMR, "diagnosis_icd10": "E10.9", "diagnosis_name": "1型糖尿病"})
    assert written.status_code == 200, written.text
    terminated = await client.post(f"/api/visits/{visit_id}/terminate", headers=doctor, json={
        "reason": "suspected_infectious", "suspected_icd10": "A15.0", "note": "咳嗽3周", "referral": REFERRAL})
    assert terminated.status_code == 200, terminated.text
    # The API still says it all to those who may read it: the field key opens what the table seals.
    shown = (await client.get(f"/api/visits/{visit_id}", headers=child)).json()
    assert shown["guardian"]["name"] == GUARDIAN["name"] and shown["guardian"]["id_number"].startswith("110101**")
    assert shown["prior_diagnosis"]["icd10_code"] == "E10.9" and shown["referral"] == REFERRAL
    assert shown["infectious_flag"]["icd10_code"] == "A15.0" and "肺结核" in shown["infectious_flag"]["disease_zh"]


async def adult_visit_prescribed_and_dispensed(client: AsyncTestClient[Any]) -> None:
    patient = await login_as(client, "patient")
    await states_no_known_allergies(client, patient)
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"],
                        await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text
    visit_id = booked.json()["visit_id"]
    doctor = await signing_doctor(client)
    assert (await accept(client, doctor, visit_id)).status_code == 200
    assert (await client.post(f"/api/visits/{visit_id}/start", headers=doctor)).status_code == 200
    assert (await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor, json=EMR)).status_code == 200
    written = await write(client, doctor, visit_id)
    assert written.status_code == 201, written.text
    pharmacist = await reviewing_pharmacist(client)
    reviewed = await review(client, pharmacist, written.json(), "approve")
    assert reviewed.status_code == 200, reviewed.text
    dispensed = await dispense(client, pharmacist, reviewed.json())
    assert dispensed.status_code == 201, dispensed.text


async def test_a_dump_after_a_days_journey_holds_no_diagnosis_infectious_flag_or_guardian_in_clear(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    await child_visit_terminated_for_a_suspected_infection(client)
    await adult_visit_prescribed_and_dispensed(client)
    text = await dump(session)
    assert "visit " in text and "prior_diagnosis " in text and "consent_record " in text and "dispensing " in text
    leaks = {value: [line[:160] for line in text.splitlines() if found(line, value)][:3]
             for value in CLEAR if found(text, value)}
    assert not leaks, f"in clear in the database: {leaks}"


async def dump_fresh(url: str) -> str:
    """The dump on connections of its own: PostgreSQL's cached plans of older connections name dropped columns."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as fresh:
            return await dump(fresh)
    finally:
        await engine.dispose()


def _alembic(url: str, key: bytes, action: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["field_key"] = key
    with ThreadPoolExecutor(max_workers=1) as worker:  # alembic runs its own event loop
        worker.submit(getattr(command, action), config, revision).result()


async def test_the_migration_seals_the_rows_already_there_and_its_downgrade_opens_them(
    client: AsyncTestClient[Any], session: AsyncSession, settings: Settings, ctx: HospitalContext, demo: None
) -> None:
    await child_visit_terminated_for_a_suspected_infection(client)
    await session.close()
    url = settings.resolved_database_url
    _alembic(url, settings.field_key, "downgrade", "0015_rx_safety")
    try:
        before = await dump_fresh(url)
        for value in (GUARDIAN["name"], PRIOR["diagnosis_name"], PRIOR["institution_name"], "A15.0"):
            assert found(before, value), f"{value!r}: the downgrade did not open it back into its clear column"
    finally:
        _alembic(settings.resolved_database_url, settings.field_key, "upgrade", "head")
    after = await dump_fresh(url)
    leaks = [value for value in CLEAR if found(after, value)]
    assert not leaks, f"in clear after the migration: {leaks}"
    async with AsyncTestClient(app=create_app(settings, ctx)) as served:  # a server started after the migration
        child = await login(served, "13911110031", "patient-pass-2026")
        visit = (await served.get("/api/visits", headers=child)).json()[0]
        assert visit["guardian"]["name"] == GUARDIAN["name"] and visit["referral"] == REFERRAL
        assert visit["prior_diagnosis"]["diagnosis_name"] == PRIOR["diagnosis_name"]
        assert visit["infectious_flag"]["icd10_code"] == "A15.0"
        assert visit["termination_reason"] == "suspected_infectious"
        consents = await served.post("/api/consent/acceptances", headers=child, json={
            "version": (await served.get("/api/consent")).json()["version"], "guardian": GUARDIAN})
        assert consents.json()["accepted_by_guardian"]["name"] == GUARDIAN["name"], consents.text
