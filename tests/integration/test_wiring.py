"""An admission, a suspension or the demo seed through a context that was never wired is refused and leaves
nothing behind, never done without the clinician's signing key (RX-05); `hospital demo` wires its context."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.biometrics.models import FaceEnrolment
from hospital.config import Settings
from hospital.context import HospitalContext, build_context
from hospital.core.audit import Actor, AuditEntry
from hospital.core.blobs import Blob
from hospital.core.events import SubscribersNotWired
from hospital.core.outbox import OutboxEvent
from hospital.db import create_engine, session_factory
from hospital.identity.models import User
from hospital.institution.models import Department
from hospital.institution.service import current_licence
from hospital.signing.models import ClinicianCredential
from hospital.staff.models import StaffMember
from hospital.staff.service import Admission, admit_staff, set_suspension
from tests.faces import face_bytes
from tests.helpers import count_rows
from tests.integration.test_staff_and_faces import doctor_application

TABLES = (StaffMember, User, Blob, AuditEntry, OutboxEvent, FaceEnrolment, ClinicianCredential, Department)
ACTOR = Actor.system("wiring-test")


@pytest.fixture
def unwired(settings: Settings, ctx: HospitalContext) -> HospitalContext:
    """The same hospital as the test's `ctx` (clock, face pool), built without `hospital.wiring.wire`."""
    context = build_context(settings)
    context.clock, context.faces = ctx.clock, ctx.faces
    return context


@pytest.fixture
async def writer(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_engine(settings.resolved_database_url)
    async with session_factory(engine)() as s:
        yield s
    await engine.dispose()


async def active_credentials(session: AsyncSession) -> list[str]:
    rows = (await session.execute(select(StaffMember.real_name).join(
        ClinicianCredential, ClinicianCredential.staff_id == StaffMember.id).where(  # type: ignore[arg-type]
        ClinicianCredential.revoked_at.is_(None)))).scalars().all()  # type: ignore[union-attr]
    await session.rollback()
    return sorted(rows)


async def test_an_unwired_context_refuses_an_admission_and_stores_nothing(
    unwired: HospitalContext, ctx: HospitalContext, session: AsyncSession, writer: AsyncSession, demo: None
) -> None:
    before = await count_rows(session, *TABLES)
    blobs = sorted(p.name for p in (unwired.settings.data_dir / "blobs").rglob("*") if p.is_file())
    with pytest.raises(SubscribersNotWired, match=r"subscribers not wired \(ClinicianAdmitted"):
        await admit_staff(writer, unwired, ACTOR, Admission(**doctor_application()), face_bytes("alex1.jpg"), "image/jpeg")
    await writer.rollback()
    assert await count_rows(session, *TABLES) == before
    assert sorted(p.name for p in (unwired.settings.data_dir / "blobs").rglob("*") if p.is_file()) == blobs

    # The same admission through the wired context: admitted, with no key made by the hospital (RX-05: the
    # clinician registers a device).
    admitted = await admit_staff(writer, ctx, ACTOR, Admission(**doctor_application()), face_bytes("alex1.jpg"),
                                 "image/jpeg")
    assert admitted.real_name == "周医生" and "周医生" not in await active_credentials(session)


async def test_an_unwired_context_refuses_a_suspension_and_the_certificate_stays_valid(
    unwired: HospitalContext, session: AsyncSession, writer: AsyncSession, demo: None, client: AsyncTestClient[Any]
) -> None:
    from tests.integration.prescriptions.conftest import reviewing_pharmacist, signing_doctor

    await signing_doctor(client), await reviewing_pharmacist(client)  # each registers a signing device
    doctor = (await session.execute(select(StaffMember.id).where(StaffMember.kind == "doctor"))).scalar_one()
    await session.rollback()
    with pytest.raises(SubscribersNotWired, match="SuspensionChanged"):
        await set_suspension(writer, unwired, ACTOR, doctor, True, "licence review")
    await writer.rollback()
    suspended = (await session.execute(select(StaffMember.suspended).where(StaffMember.id == doctor))).scalar_one()
    assert suspended is False
    await session.rollback()
    assert await active_credentials(session) == ["李药师", "王医生"]


async def test_the_demo_seed_refuses_an_unwired_context_before_writing_anything(
    unwired: HospitalContext, session: AsyncSession, writer: AsyncSession
) -> None:
    from hospital.demo import seed_demo

    before = await count_rows(session, *TABLES)
    with pytest.raises(SubscribersNotWired):
        await seed_demo(writer, unwired)
    await writer.rollback()
    assert await current_licence(session) is None
    assert await count_rows(session, *TABLES) == before


async def test_hospital_demo_seeds_clinicians_and_makes_no_signing_key(
    settings: Settings, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hospital demo` as an operator runs it, with the server itself left out."""
    import uvicorn

    from hospital.cli import main

    served: list[Any] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, *_, **__: served.append(server.config.app))
    env = {"HOSPITAL_DATABASE_URL": settings.resolved_database_url, "HOSPITAL_DATA_DIR": str(settings.data_dir),
           "HOSPITAL_FACE_WORKERS": "0"}
    run = await asyncio.to_thread(CliRunner().invoke, main, ["demo"], env=env)
    assert run.exit_code == 0, run.output
    assert len(served) == 1
    # The server answers /health at once, builds the app (imports, migrations) behind it, and the app seeds the
    # demo in the background once it serves: /ready says "starting", then "seeding", then ok.
    async with AsyncTestClient(app=served[0]) as client:
        assert (await client.get("/health")).status_code == 200
        for _ in range(1200):
            ready = (await client.get("/ready")).json()
            if ready["checks"].get("app") != "starting" and ready["checks"].get("demo") != "seeding":
                break
            await asyncio.sleep(0.1)
        assert ready["checks"]["demo"] == "ok", ready
    assert await active_credentials(session) == []  # RX-05: keys are made on the clinicians' devices
