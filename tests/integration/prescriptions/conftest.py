"""Helpers for the prescription tests: visits made directly, signing-fresh clinicians, a valid draft.

The doctor (doctor.wang, enrolled with obama.jpg) verifies with obama2.jpg; the pharmacist (pharmacist.li,
enrolled with biden.jpg) with Biden's face cut out of obama_and_biden.jpg, a different photograph of him.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.blobs import Blob
from hospital.identity.models import User
from hospital.patients.models import Patient
from hospital.prescriptions.safety.models import PatientSafetyContext
from hospital.prescriptions.safety.service import seal_content
from hospital.prescriptions.safety.values import AllergyStatus, SafetyContext
from hospital.visits.booking.models import Schedule, Visit, seal_visit_guardian
from hospital.visits.intake.models import PriorDiagnosisContent, sealed_prior
from tests.conftest import SHARED
from tests.faces import face_bytes
from tests.helpers import give_biometric_consent, login, login_as
from tests.signing import signed_post, signing_device

FACES = SHARED / "faces"
NO_KNOWN_ALLERGIES = AllergyStatus.NO_KNOWN_ALLERGIES


def photo(name: str) -> bytes:
    return (FACES / name).read_bytes()


def biden_capture() -> bytes:
    """Biden's face alone, from the photograph of both presidents (rows 300–800, columns 600–1080)."""
    buffer = io.BytesIO()
    Image.open(FACES / "obama_and_biden.jpg").crop((600, 300, 1080, 800)).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


async def verified(client: AsyncTestClient[Any], headers: dict[str, str], image: bytes) -> dict[str, str]:
    """Headers carrying a fresh practice session (FACE-02/03) for the logged-in clinician, who holds a registered
    signing device (tests/signing.py) from then on."""
    response = await client.post("/api/me/face-verifications", headers=headers,
                                 files={"image": ("capture.jpg", image, "image/jpeg")})
    assert response.status_code == 201, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    await signing_device(client, headers)  # RX-05: a doctor's or pharmacist's device key, registered while fresh
    return headers


async def signing_doctor(client: AsyncTestClient[Any]) -> dict[str, str]:
    return await verified(client, await login_as(client, "doctor"), photo("obama2.jpg"))


async def reviewing_pharmacist(client: AsyncTestClient[Any]) -> dict[str, str]:
    return await verified(client, await login_as(client, "pharmacist"), biden_capture())


async def second_pharmacist(client: AsyncTestClient[Any]) -> dict[str, str]:
    """Admit pharmacist.zhao (enrolled with kit1.jpg: one face, one clinician) and open their practice session with kit2.jpg."""
    import json

    admin = await login_as(client, "admin")
    application = {
        "kind": "pharmacist", "username": "pharmacist.zhao", "initial_password": "zhao-pass-2026",
        "real_name": "赵药师", "id_number": "110105199009093412", "title": "药师", "clinical_years": 4,
        "departments": [],
        "credentials": [{"kind": "pharmacist_qualification", "number": "YS2020310009", "valid_until": "2030-12-31"}],
    }
    admitted = await client.post("/api/staff", headers=admin, data={"application": json.dumps(application)},
                                 files={"photo": ("photo.jpg", face_bytes("kit1.jpg"), "image/jpeg")})
    assert admitted.status_code == 201, admitted.text
    pharmacist = await login(client, "pharmacist.zhao", "zhao-pass-2026")
    await give_biometric_consent(client, pharmacist)  # FACE-01: their own consent, in their own session
    return await verified(client, pharmacist, face_bytes("kit2.jpg"))


async def make_visit(session: AsyncSession, ctx: HospitalContext, state: str = "accepted", *, icd10: str = "I10",
                     guardian: dict[str, Any] | None = None, allergy_statement: bool = True) -> Visit:
    """A visit of the demo patient with doctor.wang in 03.03, made directly: these tests are about prescribing.
    The patient has stated "no known allergies" unless `allergy_statement` is False (RX-04)."""
    now = ctx.now()
    patient = (await session.execute(select(Patient))).scalars().first()
    doctor = (await session.execute(select(User).where(User.role == "doctor"))).scalars().first()
    assert patient is not None and doctor is not None
    document = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    session.add(Blob(sha256=document, size=1, content_type="application/pdf", retention_class="medical_record",
                     purge_not_before=date(2041, 1, 1)))
    prior = sealed_prior(ctx.cipher, PriorDiagnosisContent(icd10, icd10[:3], "高血压", "示范市第一人民医院"),
                         patient_id=patient.id, document_type="outpatient_record",
                         diagnosed_on=now.date() - timedelta(days=90), document_sha256=document,
                         document_content_type="application/pdf")
    schedule = Schedule(doctor_user_id=doctor.id, department_code="03.03", starts_at=now - timedelta(minutes=30),
                        ends_at=now + timedelta(minutes=30), capacity=5, booked=1)
    session.add_all([prior, schedule])
    await session.flush()
    visit = Visit(schedule_id=schedule.id, patient_id=patient.id, patient_user_id=patient.user_id,
                  doctor_user_id=doctor.id, department_code="03.03", mode="video", prior_diagnosis_id=prior.id,
                  state=state, queue_number=1)
    if guardian is not None:
        seal_visit_guardian(ctx.cipher, visit, {"relationship": "parent", "id_number": "110101199003012226",
                                                "mobile": None, "present_confirmed": True, **guardian})
    session.add(visit)
    if allergy_statement and (await session.execute(select(PatientSafetyContext).where(
            PatientSafetyContext.patient_id == patient.id))).first() is None:
        await session.flush()
        session.add(safety_context_row(ctx, patient, visit, SafetyContext(allergy_status=NO_KNOWN_ALLERGIES)))
    await session.commit()
    session.expunge(visit)  # detached: the tests' rollbacks (count_rows) leave its attributes loaded
    return visit


def safety_context_row(ctx: HospitalContext, patient: Patient, visit: Visit | None, content: SafetyContext, *,
                       version: int = 1) -> PatientSafetyContext:
    """A version of the patient's safety context as the patient states it, written directly."""
    row_id = uuid.uuid4()
    return PatientSafetyContext(id=row_id, patient_id=patient.id, version=version,
                                visit_id=visit.id if visit else None, recorded_by_user_id=patient.user_id,
                                recorded_by_role="patient", content_sealed=seal_content(ctx, content, row_id),
                                recorded_at=ctx.now())


def amlodipine(**changes: Any) -> dict[str, Any]:
    item = {"drug_code": "C08CA01-tab-5mg", "dose_per_time": "5", "times_per_day": 1, "days_supply": 7,
            "quantity_packs": 1, "usage": "口服，每日早晨"}
    item.update(changes)
    return item


def rx_body(*items: dict[str, Any], diagnoses: tuple[tuple[str, str], ...] = (("I10", "原发性高血压"),),
            **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"diagnoses": [{"icd10": c, "name": n} for c, n in diagnoses],
                            "items": list(items) or [amlodipine()]}
    body.update(changes)
    return body


async def states_no_known_allergies(client: AsyncTestClient[Any], patient: dict[str, str]) -> None:
    """The patient's explicit statement at intake (RX-04): nothing is prescribed without one."""
    stated = await client.put("/api/me/safety-context", headers=patient,
                              json={"allergy_status": "no_known_allergies"})
    assert stated.status_code == 200, stated.text


async def checked_and_signed(client: AsyncTestClient[Any], doctor: dict[str, str], path: str,
                             body: dict[str, Any]) -> Any:
    """The doctor's two steps (RX-07): the dry run at `path`/check, then signing at `path` naming its hash (a
    draft the dry run refuses is signed without one, and the rules refuse it naming their rule). A refused dry
    run (not the visit's doctor, a closed visit, a suspended doctor) is returned as the answer."""
    checked = await client.post(f"{path}/check", headers=doctor, json=body)
    if checked.status_code != 200:
        return checked
    digest = checked.json()["draft_sha256"] if checked.json()["signable"] else None
    return await signed_post(client, path, doctor, {**body, **({"draft_sha256": digest} if digest else {})})


async def write(client: AsyncTestClient[Any], doctor: dict[str, str], visit: Visit | str,
                body: dict[str, Any] | None = None) -> Any:
    visit_id = visit if isinstance(visit, str) else visit.id
    return await checked_and_signed(client, doctor, f"/api/visits/{visit_id}/prescriptions", body or rx_body())


@pytest.fixture
async def visit(session: AsyncSession, ctx: HospitalContext, demo: None) -> Visit:
    return await make_visit(session, ctx)
