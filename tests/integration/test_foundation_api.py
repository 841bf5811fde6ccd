"""The foundation over HTTP, on SQLite and PostgreSQL: health, log-in, registration, problem details."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.core.audit import AuditEntry
from hospital.core.outbox import OutboxEvent
from hospital.identity.models import User
from hospital.patients.models import Patient
from tests.helpers import count_rows, login, login_as

pytestmark = pytest.mark.requirement("PAT-01", "SEC-01", "INS-01")

NEW_PATIENT = {"real_name": "李四", "id_number": "110101199003077777", "phone": "13912345678",
               "password": "patient-pass-2026"}


def _fix_check_digit(body17: str) -> str:
    from stdnum.cn import ric

    return body17 + ric.calc_check_digit(body17 + "0")


VALID_ID = _fix_check_digit("11010119900307777")
BAD_CHECKSUM_ID = VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")


async def test_health_ready_and_openapi_answer(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}
    schema = await client.get("/schema/openapi.json")
    assert "/api/auth/login" in schema.json()["paths"]


async def test_a_patient_registers_logs_in_and_reads_their_masked_profile(client: AsyncTestClient[Any], demo: None) -> None:
    created = await client.post("/api/patients", json={**NEW_PATIENT, "id_number": VALID_ID})
    assert created.status_code == 201, created.text
    headers = await login(client, NEW_PATIENT["phone"], NEW_PATIENT["password"])
    me = (await client.get("/api/me", headers=headers)).json()
    assert me["role"] == "patient"
    assert me["patient"]["real_name"] == "李四"
    assert me["patient"]["id_number"] == VALID_ID[:6] + "********" + VALID_ID[-4:]


async def test_the_id_number_is_stored_sealed_not_in_clear(client: AsyncTestClient[Any], session: AsyncSession,
                                                          demo: None) -> None:
    assert (await client.post("/api/patients", json={**NEW_PATIENT, "id_number": VALID_ID})).status_code == 201
    from sqlmodel import select

    patient = (await session.execute(select(Patient).where(Patient.real_name == "李四"))).scalar_one()
    assert VALID_ID.encode() not in patient.id_number_sealed
    assert VALID_ID not in patient.id_number_hash


async def test_a_bad_checksum_is_refused_with_the_rule_and_nothing_is_written(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    before = await count_rows(session, User, Patient, AuditEntry, OutboxEvent)
    refused = await client.post("/api/patients", json={**NEW_PATIENT, "id_number": BAD_CHECKSUM_ID})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert body["rule_id"] == "PAT-01" and body["status"] == 422 and body["type"] == "/problems/PAT-01"
    assert await count_rows(session, User, Patient, AuditEntry, OutboxEvent) == before


async def test_a_duplicate_registration_is_refused(client: AsyncTestClient[Any], session: AsyncSession, demo: None) -> None:
    assert (await client.post("/api/patients", json={**NEW_PATIENT, "id_number": VALID_ID})).status_code == 201
    before = await count_rows(session, User, Patient, AuditEntry)
    again = await client.post("/api/patients", json={**NEW_PATIENT, "id_number": VALID_ID, "phone": "13912340000"})
    assert again.status_code == 409 and again.json()["rule_id"] == "PAT-01"
    same_phone = await client.post("/api/patients", json={**NEW_PATIENT, "id_number": "11010519491231002X"})
    assert same_phone.status_code == 409
    assert await count_rows(session, User, Patient, AuditEntry) == before


async def test_malformed_wrong_typed_unknown_and_oversized_bodies_get_4xx_problems(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    before = await count_rows(session, User, Patient, AuditEntry)
    malformed = await client.post("/api/patients", content=b"{not json", headers={"content-type": "application/json"})
    wrong_type = await client.post("/api/patients", json={**NEW_PATIENT, "id_number": 110101})
    unknown = await client.post("/api/patients", json={**NEW_PATIENT, "id_number": VALID_ID, "role": "admin"})
    missing = await client.post("/api/patients", json={"real_name": "王五"})
    oversized = await client.post("/api/patients", content=b"x" * (13 * 1024 * 1024),
                                  headers={"content-type": "application/json"})
    for response, status in ((malformed, 400), (wrong_type, 400), (unknown, 400), (missing, 400), (oversized, 413)):
        assert response.status_code == status, (response.status_code, response.text[:200])
        assert response.headers["content-type"].startswith("application/problem+json")
        assert {"type", "title", "status", "detail"} <= set(response.json())
    assert await count_rows(session, User, Patient, AuditEntry) == before


async def test_wrong_password_is_401_and_five_failures_lock_the_account(client: AsyncTestClient[Any], demo: None) -> None:
    for _ in range(5):
        wrong = await client.post("/api/auth/login", json={"username": "doctor.wang", "password": "nope-2026"})
        assert wrong.status_code == 401
    locked = await client.post("/api/auth/login", json={"username": "doctor.wang", "password": "doctor-demo-2026"})
    assert locked.status_code == 423
    assert locked.json()["rule_id"] == "SEC-01"


async def test_an_unknown_user_is_401_like_a_wrong_password(client: AsyncTestClient[Any], demo: None) -> None:
    response = await client.post("/api/auth/login", json={"username": "nobody", "password": "whatever-1"})
    assert response.status_code == 401 and response.json()["detail"] == "wrong username or password"


async def test_me_needs_a_valid_token(client: AsyncTestClient[Any], demo: None) -> None:
    assert (await client.get("/api/me")).status_code == 401
    assert (await client.get("/api/me", headers={"Authorization": "Bearer abc.def.ghi"})).status_code == 401
    headers = await login_as(client, "doctor")
    assert (await client.get("/api/me", headers=headers)).json()["role"] == "doctor"


async def test_only_an_admin_may_record_a_licence(client: AsyncTestClient[Any], demo: None) -> None:
    body = {"licence_number": "PDY0002-310115-NEW1", "institution_name": "示范市第一人民医院",
            "internet_hospital_name": "示范市第一人民医院互联网医院", "issuer": "示范市卫生健康委员会",
            "valid_from": "2026-01-01", "valid_until": "2030-01-01", "service_modes": ["互联网诊疗"]}
    as_doctor = await client.post("/api/institution/licence", json=body, headers=await login_as(client, "doctor"))
    assert as_doctor.status_code == 403
    as_admin = await client.post("/api/institution/licence", json=body, headers=await login_as(client, "admin"))
    assert as_admin.status_code == 201
    public = (await client.get("/api/institution")).json()
    assert public["licence"]["licence_number"] == "PDY0002-310115-NEW1"
