"""Demo data seeded on first start: a licensed hospital, its departments and one user of each role, and the
patient's journey: doctor.wang's schedules, the demo patient's consent and a prior diagnosis of essential
hypertension with a small generated PDF, so there is something to book.

README's tour lists these users. Seeding is idempotent: a database that already has a licence is left alone.
`hospital demo` seeds in the background once the app serves (`DemoSeed`): `/health` answers within a second or
two, `/ready` says "seeding" until the demo users exist.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hospital.biometrics.service import consent as biometric_consent
from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.pdf import one_page_pdf
from hospital.identity.models import Role
from hospital.identity.service import create_user
from hospital.institution import service as institution
from hospital.institution.rules import SeniorPhysician
from hospital.patients.service import Registration, register_patient
from hospital.staff.service import Admission, admit_staff, list_staff
from hospital.visits.booking import service as booking
from hospital.visits.dates import add_months
from hospital.visits.intake import service as intake

log = logging.getLogger("hospital.demo")

__all__ = ["DEMO_DEPARTMENTS", "DEMO_INSTITUTION_REGISTRATION", "DEMO_SCHEDULES", "DEMO_USERS", "DemoSeed",
           "DemoUser", "demo_pdf", "seed_demo", "seed_visits_demo"]


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    password: str
    role: str
    display_name: str


DEMO_USERS = (
    DemoUser("admin", "admin-demo-2026", Role.ADMIN, "系统管理员"),
    DemoUser("doctor.wang", "doctor-demo-2026", Role.DOCTOR, "王医生"),
    DemoUser("pharmacist.li", "pharmacist-demo-2026", Role.PHARMACIST, "李药师"),
)
# The demo clinicians' admission photos (their faces are enrolled from these): ../shared/faces beside the clone.
DEMO_PHOTOS = {"doctor.wang": "obama.jpg", "pharmacist.li": "biden.jpg"}
DEMO_PATIENT = Registration(real_name="张三", id_number="11010519491231002X", phone="13800138000",
                            password="patient-demo-2026")  # nosec B106

# A well-formed, made-up 医疗机构登记号 of the demo's diagnosing hospital (REV-01): 组织机构代码 42502766-3,
# 浦东新区 310115, 经济类型 11, 综合医院 A100, 非营利 1.
DEMO_INSTITUTION_REGISTRATION = "42502766331011511A1001"

# 诊疗科目 codes from the national catalogue (医疗机构诊疗科目名录, as in visits/intake/data/departments.csv: 03.03 is
# 神经内科, 03.04 心血管内科, 03.07 内分泌); the last one is deliberately not approved.
DEMO_DEPARTMENTS = (
    ("03", "内科", True),
    ("03.04", "心血管内科专业", True),
    ("03.07", "内分泌专业", True),
    ("03.03", "神经内科专业", True),
    ("07", "儿科", True),
    ("04", "外科", False),
)


def demo_senior_physicians(index: int) -> list[SeniorPhysician]:
    """The demo's (invented) 主任医师 and 副主任医师 registered at the physical institution for a department."""
    return [SeniorPhysician(f"示范主任{index + 1}", "主任医师", f"1103100009{index:03d}01"),
            SeniorPhysician(f"示范副主任{index + 1}", "副主任医师", f"1103100009{index:03d}02")]


async def seed_demo(session: AsyncSession, ctx: HospitalContext) -> bool:
    """Seed once; returns False when the database already holds a licence."""
    if await institution.current_licence(session) is not None:
        return False
    actor = Actor.system("demo-seed")
    # Refuse an unwired context before the licence is written (a half-seeded database never seeds again): the
    # demo clinicians get their signing keys at admission from the subscribers (RX-05).
    ctx.events()
    today = ctx.today()
    await institution.record_licence(session, actor, institution.LicenceInput(
        licence_number="PDY0001-310115-DEMO", institution_name="示范市第一人民医院",
        internet_hospital_name=ctx.settings.hospital_name, issuer="示范市卫生健康委员会",
        valid_from=date(today.year - 1, 1, 1), valid_until=date(today.year + 4, 12, 31),
        service_modes=["门诊", "互联网诊疗"], address="示范市浦东新区示范路1号", legal_representative="赵院长"))
    for index, (code, name, approved) in enumerate(DEMO_DEPARTMENTS):
        # PD 8(二): a department opens with one 正高 and one 副高 physician of the speciality (INS-02), even here
        await institution.set_department(session, actor, code, name, approved, demo_senior_physicians(index))
    admin = DEMO_USERS[0]
    user = await create_user(session, ctx, username=admin.username, password=admin.password, role=admin.role,
                             display_name=admin.display_name)
    await append_audit(session, actor, "user.created", subject_type="user", subject_id=user.id,
                       detail={"role": admin.role})
    await session.commit()
    faces = faces_dir()
    for demo in DEMO_USERS[1:]:
        photo = faces / DEMO_PHOTOS[demo.username]
        if not photo.exists():
            log.warning("%s not found: %s is not admitted (put ../shared beside the clone)", photo, demo.username)
            continue
        member = await admit_staff(session, ctx, actor, demo_admission(demo, today), photo.read_bytes(), "image/jpeg")
        # FACE-01: the demo clinician's own consent, as they would give it in their session after admission
        await biometric_consent.give_biometric_consent(session, ctx, Actor(member.user_id, demo.role, "demo-seed",
                                                                    "127.0.0.1"),
                                                biometric_consent.CONSENT_VERSION, biometric_consent.CONSENT_SHA256)
    patient = await register_patient(session, ctx, actor, DEMO_PATIENT)
    await seed_visits_demo(session, ctx, patient.user_id)
    return True


def faces_dir() -> Path:
    shared = os.environ.get("HOSPITAL_SHARED_DIR")
    if shared:
        return Path(shared) / "faces"
    return Path(__file__).resolve().parents[2] / "shared" / "faces"


def demo_admission(demo: DemoUser, today: date) -> Admission:
    in_three_years = (today + timedelta(days=3 * 365)).isoformat()
    if demo.role == Role.DOCTOR:
        return Admission(
            kind="doctor", username=demo.username, initial_password=demo.password, real_name=demo.display_name,
            id_number="110105198001011238", title="主任医师", clinical_years=15, departments=["03", "03.04", "03.07"],
            credentials=[{"kind": "physician_qualification", "number": "199831110000001", "valid_until": None},
                         {"kind": "physician_practice", "number": "110310000000001", "valid_until": in_three_years}],
            practice_category="临床", practice_scope="内科专业",
            practice_institution="示范市第一人民医院")
    return Admission(
        kind="pharmacist", username=demo.username, initial_password=demo.password, real_name=demo.display_name,
        id_number="110105198505052228", title="主管药师", clinical_years=10, departments=[],
        credentials=[{"kind": "pharmacist_qualification", "number": "YS2010310001", "valid_until": in_three_years}])


# (days from today, department, start, end): 心血管内科专业 and 内分泌专业, 10 places each.
DEMO_SCHEDULES = ((1, "03.04", time(9), time(11)), (1, "03.07", time(14), time(16)), (2, "03.04", time(9), time(11)))


def demo_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing `lines` (ASCII) in Helvetica: a stand-in for a scanned outpatient record."""
    return one_page_pdf(lines)


async def seed_visits_demo(session: AsyncSession, ctx: HospitalContext, patient_user_id: uuid.UUID) -> None:
    """Publish doctor.wang's schedules (when admitted) and give the demo patient consent and a prior diagnosis."""
    today = ctx.today()
    seed = Actor.system("demo-seed")
    doctor = next((m for m in await list_staff(session) if m.kind == Role.DOCTOR), None)
    if doctor is None:
        log.warning("no doctor admitted: the demo has no schedules")
    else:
        for days, department, start, end in DEMO_SCHEDULES:
            day = today + timedelta(days=days)
            await booking.publish_schedule(session, ctx, seed, doctor.user_id, booking.ScheduleInput(
                department, datetime.combine(day, start, ctx.time_zone), datetime.combine(day, end, ctx.time_zone),
                capacity=10, modes=list(booking.MODES)))  # priced by the disclosure's fee table (INS-03)
    patient = Actor(patient_user_id, Role.PATIENT, "demo-seed", "127.0.0.1")
    consent = await intake.current_consent(session, ctx)
    await intake.accept_consent(session, ctx, patient, patient_user_id, consent.version, consent.text_sha256)
    diagnosed_on = add_months(today, -6)
    document = demo_pdf(["Outpatient record (demo)", "Diagnosis: I10 essential hypertension",
                         f"Date: {diagnosed_on.isoformat()}", "Institution: Demo City First People's Hospital"])
    await intake.file_prior_diagnosis(session, ctx, patient, patient_user_id, intake.PriorDiagnosisInput(
        "I10", "原发性高血压", "outpatient_record", "示范市第一人民医院", diagnosed_on,
        institution_registration_number=DEMO_INSTITUTION_REGISTRATION), document, "application/pdf")


class DemoSeed:
    """The demo seed as a task of the running app: started after the CA, reported by the readiness probe."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], ctx: HospitalContext) -> None:
        self._factory = factory
        self._ctx = ctx
        self._task: asyncio.Task[bool] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._seed(), name="demo-seed")

    async def _seed(self) -> bool:
        async with self._factory() as session:
            seeded = await seed_demo(session, self._ctx)
            await session.commit()
        # The operator who typed `hospital demo` reads this on the console (uvicorn configures only its own logs).
        print("demo data seeded" if seeded else "demo data already present", file=sys.stdout, flush=True)
        return seeded

    async def probe(self) -> str:
        """The readiness check: "ok" once seeded (or already present), "seeding", or the failure."""
        task = self._task
        if task is None or not task.done():
            return "seeding"
        if task.cancelled():
            return "cancelled"
        error = task.exception()
        return "ok" if error is None else f"failed: {error.__class__.__name__}: {error}"

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
