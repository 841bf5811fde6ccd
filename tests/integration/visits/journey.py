"""Steps of the patient's and the doctor's journey over HTTP, shared by the visit tests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import ric

from hospital.config import Settings
from hospital.core.clock import CHINA_TIME
from hospital.core.errors import HospitalError
from hospital.db import create_engine, session_factory
from hospital.demo import DEMO_INSTITUTION_REGISTRATION, demo_pdf
from hospital.institution.reference import consultation_fees, load_disclosure_settings
from tests.faces import face_bytes
from tests.helpers import hospital_today, login, login_as

__all__ = ["EMR", "FEES", "MOTHER", "accept", "book", "demo_prior_id", "doctor_in_session", "file_prior", "new_patient", "pdf",
           "publish", "race", "resident_id", "schedule_of", "verified"]

FACES = Path(os.environ["HOSPITAL_SHARED_DIR"]) / "faces"
EMR = {"chief_complaint": "血压控制复诊", "present_illness": "高血压病史3年，规律服药，近期血压 135/85 mmHg",
       "allergy_history": "无", "diagnosis_icd10": "I10", "diagnosis_name": "原发性高血压",
       "treatment_advice": "继续原方案服药，低盐饮食，1个月后复诊", "past_history": "无糖尿病史"}


def pdf(text: str = "Outpatient record") -> bytes:
    return demo_pdf([text])


def resident_id(birth: date, order: str = "123") -> str:
    body = f"110101{birth:%Y%m%d}{order}"
    return body + ric.calc_check_digit(body + "0")


async def verified(client: AsyncTestClient[Any], headers: dict[str, str], photo: str = "obama2.jpg") -> dict[str, str]:
    """The headers of a practice session: the doctor's face verified now (FACE-02)."""
    response = await client.post("/api/me/face-verifications", headers=headers,
                                 files={"image": ("capture.jpg", face_bytes(photo), "image/jpeg")})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def doctor_in_session(client: AsyncTestClient[Any]) -> dict[str, str]:
    return await verified(client, await login_as(client, "doctor"))


MOTHER = {"name": "患儿母亲", "id_number": resident_id(date(1990, 3, 1), "222"), "relationship": "parent"}


async def new_patient(client: AsyncTestClient[Any], name: str, birth: date, phone: str, *, order: str = "123",
                      consent: bool = True) -> dict[str, str]:
    """Register a patient, log in and (by default) accept the current consent: a minor's, given by the
    guardian `MOTHER` (PAT-02)."""
    registered = await client.post("/api/patients", json={"real_name": name, "id_number": resident_id(birth, order),
                                                          "phone": phone, "password": "patient-pass-2026"})
    assert registered.status_code == 201, registered.text
    headers = await login(client, phone, "patient-pass-2026")
    if consent:
        version = (await client.get("/api/consent")).json()["version"]
        minor = (hospital_today() - birth).days < 18 * 365
        accepted = await client.post("/api/consent/acceptances", headers=headers,
                                     json={"version": version, **({"guardian": MOTHER} if minor else {})})
        assert accepted.status_code == 201, accepted.text
    return headers


async def file_prior(client: AsyncTestClient[Any], headers: dict[str, str], *, document: bytes | None = None,
                     content_type: str = "application/pdf", changes: dict[str, str] | None = None, **fields: str) -> Any:
    form = {"icd10_code": "I10", "diagnosis_name": "原发性高血压", "document_type": "outpatient_record",
            "institution_name": "示范市第一人民医院", "institution_registration_number": DEMO_INSTITUTION_REGISTRATION,
            "diagnosed_on": (hospital_today() - timedelta(days=60)).isoformat()}
    form.update(changes or {})
    form.update(fields)
    return await client.post("/api/prior-diagnoses", headers=headers, data=form,
                             files={"document": ("record.pdf", pdf() if document is None else document, content_type)})


async def demo_prior_id(client: AsyncTestClient[Any], headers: dict[str, str]) -> str:
    priors = (await client.get("/api/prior-diagnoses", headers=headers)).json()
    return str(priors[0]["prior_diagnosis_id"])


async def schedule_of(client: AsyncTestClient[Any], department: str = "03.04") -> dict[str, Any]:
    """The first upcoming demo schedule of a department (the demo seeds 03.04 and 03.07 from tomorrow)."""
    schedules = (await client.get("/api/schedules", params={"department": department})).json()
    return dict(schedules[0])


async def publish(client: AsyncTestClient[Any], doctor: dict[str, str], *, department: str = "03.04", capacity: int = 1,
                  days: int = 3, hour: int = 9) -> Any:
    day = hospital_today() + timedelta(days=days)
    starts = datetime(day.year, day.month, day.day, hour, tzinfo=CHINA_TIME)
    return await client.post("/api/schedules", headers=doctor, json={
        "department_code": department, "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(), "capacity": capacity})


# What the disclosure publishes for each mode (the demo's file): the fee a patient is shown and accepts (INS-03).
FEES = consultation_fees(load_disclosure_settings(None))


async def book(client: AsyncTestClient[Any], headers: dict[str, str], schedule_id: str, prior_id: str | None,
               mode: str = "video", **extra: Any) -> Any:
    """Book as the page does: the mode's published fee shown and accepted, unless `extra` says otherwise."""
    return await client.post("/api/visits", headers=headers, json={
        "schedule_id": schedule_id, "prior_diagnosis_id": prior_id, "mode": mode,
        "fee_cny": FEES.get(mode, ""), "fee_accepted": True, **extra})


async def accept(client: AsyncTestClient[Any], doctor: dict[str, str], visit_id: str, *, read_first: bool = True) -> Any:
    """The doctor opens the prior-diagnosis document (REV-04 asks it, audited), then accepts."""
    if read_first:
        document = await client.get(f"/api/visits/{visit_id}/prior-diagnosis/document", headers=doctor)
        assert document.status_code in (200, 404), document.text
    return await client.post(f"/api/visits/{visit_id}/accept", headers=doctor, json={"revisit_confirmed": True})


async def race(settings: Settings, *calls: Callable[[AsyncSession], Awaitable[Any]]) -> list[Any]:
    """Run use cases at the same moment, each in its own session on its own connection, in this event loop.

    (The litestar test client hands requests to its app one at a time, so truly parallel requests are
    made here, one level below HTTP.) Returns each call's result, or the HospitalError it raised."""
    engine = create_engine(settings.resolved_database_url)
    factory = session_factory(engine)

    async def run(call: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        async with factory() as session:
            try:
                return await call(session)
            except HospitalError as refused:
                return refused

    try:
        return list(await asyncio.gather(*(run(call) for call in calls)))
    finally:
        await engine.dispose()
