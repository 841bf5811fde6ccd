"""Demo data for the patient's journey: doctor.wang's schedules, the demo patient's consent and a prior
diagnosis of essential hypertension with a small generated PDF, so there is something to book."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.audit import Actor
from hospital.identity.models import Role
from hospital.staff.service import list_staff
from hospital.visits.booking import service as booking
from hospital.visits.dates import CHINA_TIME, add_months
from hospital.visits.intake import service as intake

__all__ = ["DEMO_SCHEDULES", "demo_pdf", "seed_visits_demo"]

log = logging.getLogger("hospital.demo")

# (days from today, department, start, end): 心血管内科专业 and 内分泌专业, 10 places each.
DEMO_SCHEDULES = ((1, "03.04", time(9), time(11)), (1, "03.07", time(14), time(16)), (2, "03.04", time(9), time(11)))


def demo_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing `lines` (ASCII) in Helvetica: a stand-in for a scanned outpatient record."""
    text = "".join(f"({line.replace(chr(92), '').replace('(', '[').replace(')', ']')}) Tj T* " for line in lines)
    stream = f"BT /F1 12 Tf 14 TL 72 760 Td {text}ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


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
                department, datetime.combine(day, start, CHINA_TIME), datetime.combine(day, end, CHINA_TIME),
                capacity=10, modes=list(booking.MODES), price_cny="25.00"))
    patient = Actor(patient_user_id, Role.PATIENT, "demo-seed", "127.0.0.1")
    consent = await intake.current_consent(session, ctx)
    await intake.accept_consent(session, ctx, patient, patient_user_id, consent.version, consent.text_sha256)
    diagnosed_on = add_months(today, -6)
    document = demo_pdf(["Outpatient record (demo)", "Diagnosis: I10 essential hypertension",
                         f"Date: {diagnosed_on.isoformat()}", "Institution: Demo City First People's Hospital"])
    await intake.file_prior_diagnosis(session, ctx, patient, patient_user_id, intake.PriorDiagnosisInput(
        "I10", "原发性高血压", "outpatient_record", "示范市第一人民医院", diagnosed_on), document, "application/pdf")
