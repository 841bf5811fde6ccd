"""Demo data seeded on first start: a licensed hospital, its departments and one user of each role.

README's tour lists these users. Seeding is idempotent: a database that already has a licence is left alone.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.identity.models import Role
from hospital.identity.service import create_user
from hospital.institution import service as institution
from hospital.patients.service import Registration, register_patient
from hospital.staff.service import Admission, admit_staff
from hospital.visits.demo_data import seed_visits_demo

log = logging.getLogger("hospital.demo")

__all__ = ["DEMO_DEPARTMENTS", "DEMO_USERS", "DemoUser", "seed_demo"]


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
                            password="patient-demo-2026")

# 诊疗科目 codes from the national catalogue (医疗机构诊疗科目名录, as in visits/data/departments.csv: 03.03 is
# 神经内科, 03.04 心血管内科, 03.07 内分泌); the last one is deliberately not approved.
DEMO_DEPARTMENTS = (
    ("03", "内科", True),
    ("03.04", "心血管内科专业", True),
    ("03.07", "内分泌专业", True),
    ("03.03", "神经内科专业", True),
    ("07", "儿科", True),
    ("04", "外科", False),
)


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
    for code, name, approved in DEMO_DEPARTMENTS:
        await institution.upsert_department(session, actor, code, name, approved)
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
        await admit_staff(session, ctx, actor, demo_admission(demo, today), photo.read_bytes(), "image/jpeg")
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
            biometric_consent=True, practice_category="临床", practice_scope="内科专业",
            practice_institution="示范市第一人民医院")
    return Admission(
        kind="pharmacist", username=demo.username, initial_password=demo.password, real_name=demo.display_name,
        id_number="110105198505052228", title="主管药师", clinical_years=10, departments=[],
        credentials=[{"kind": "pharmacist_qualification", "number": "YS2010310001", "valid_until": in_three_years}],
        biometric_consent=True)
