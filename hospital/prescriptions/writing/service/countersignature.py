"""A child's prescription countersigned by a paediatric doctor (REV-05, PD 17): what waits, read audited, and the
countersignature that sends it on to the pharmacist and the platform. Each use case one transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.biometrics.gate import require_signing_freshness
from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit, audit_read
from hospital.core.errors import AccessRefused, Conflict, IntegrityFailure, NotFound
from hospital.identity.tokens import Principal
from hospital.prescriptions.models import Prescription, PrescriptionCountersignature
from hospital.prescriptions.queries import open_json, seal_json
from hospital.prescriptions.rules import PrescriptionStatus, check_countersigner, check_visit_not_ended
from hospital.prescriptions.writing.service.prescribing import report_submitted
from hospital.signing import service as signing
from hospital.signing.models import ClinicianCredential
from hospital.staff.rules import covers_paediatrics
from hospital.staff.service import require_clinical_act, staff_for_user
from hospital.visits.booking.models import Visit

__all__ = ["awaiting_countersignature", "countersign_prescription"]


async def countersign_prescription(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                                   prescription_id: uuid.UUID, signature: signing.DeviceSignature) -> dict[str, Any]:
    """REV-05 / PD 17: a second doctor whose 执业范围 covers paediatrics, face-verified within the signing window
    (FACE-03) and free to practise (STAFF-03, INS-01/02), signs the child's prescription; only then does it go to
    the pharmacist (pending review) and to the platform. Audited; refused with the database unchanged."""
    require_signing_freshness(ctx, principal)
    rx = (await session.execute(select(Prescription).where(col(Prescription.id) == prescription_id)
                                .with_for_update())).scalar_one_or_none()
    if rx is None:
        raise NotFound("no such prescription")
    member = await require_clinical_act(session, ctx, principal.user_id, licence_department=rx.department_code)
    check_countersigner(rx.status, principal.role, principal.user_id, rx.doctor_user_id,
                        covers_paediatrics(member.practice_scope))
    visit = await session.get(Visit, rx.visit_id)
    if visit is None:
        raise IntegrityFailure(f"the visit of {rx.number} is missing")
    check_visit_not_ended(visit.state)
    prescriber = await staff_for_user(session, rx.doctor_user_id)
    if prescriber is None:
        raise IntegrityFailure(f"the prescriber of {rx.number} has no staff record")
    # RX-05: the countersigning doctor's own device signs; the second trip reuses the time of the first
    act = f"countersignature:{rx.id}:{rx.version}"
    earlier = signing.requested_payload(ctx, principal.user_id, act, signature)
    now = datetime.fromisoformat(earlier["countersigned_at"]) if earlier else ctx.now()
    assert principal.face_verified_at is not None  # require_signing_freshness passed
    payload = {"countersignature_of": rx.number, "payload_sha256": rx.payload_sha256,
               "countersigned_at": now.isoformat(), "basis": "PD 17 低龄儿童处方 相关专业医师",
               "doctor": {"staff_id": str(member.id), "name": member.real_name, "title": member.title,
                          "practice_scope": member.practice_scope,
                          "certificate_serial": await signing.device_serial(session, principal.user_id, signature)},
               "face_verification": {"practice_session_id": str(principal.practice_session_id),
                                     "verified_at": principal.face_verified_at.isoformat()}}
    signer = await signing.require_device_signature(session, ctx, principal.user_id, act, payload, signature)
    token = signer.jws
    row_id = uuid.uuid4()
    session.add(PrescriptionCountersignature(
        id=row_id, prescription_id=rx.id, doctor_user_id=principal.user_id,
        doctor_credential_id=signer.credential.id, jws_sealed=seal_json(ctx, token, "countersignature.jws", row_id),
        countersigned_at=now, practice_session_id=principal.practice_session_id,
        face_verified_at=principal.face_verified_at))
    moved = await session.execute(update(Prescription).where(
        col(Prescription.id) == rx.id, col(Prescription.version) == rx.version,
        col(Prescription.status) == PrescriptionStatus.AWAITING_COUNTERSIGN).values(
        status=PrescriptionStatus.PENDING_REVIEW, version=rx.version + 1, updated_at=now))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this prescription was countersigned or voided meanwhile", rule_id="REV-05")
    await session.flush()
    await session.refresh(rx)
    await append_audit(session, actor, "prescription.countersigned", subject_type="prescription", subject_id=rx.id,
                       rule_id="REV-05", detail={"number": rx.number, "prescriber_user_id": rx.doctor_user_id,
                                                 "countersignature_id": row_id,
                                                 "practice_scope": member.practice_scope})
    supersedes = await session.get(Prescription, rx.supersedes_id) if rx.supersedes_id else None
    prescriber_signer = await session.get(ClinicianCredential, rx.doctor_credential_id)
    await report_submitted(session, ctx, rx, open_json(ctx, rx.payload_sealed, "prescription.payload", rx.id),
                            open_json(ctx, rx.doctor_jws_sealed, "prescription.doctor_jws", rx.id),
                            open_json(ctx, rx.findings_sealed, "prescription.findings", rx.id), prescriber,
                            prescriber_signer.serial if prescriber_signer else "", supersedes)
    await session.commit()
    return {"prescription_id": str(rx.id), "prescription_number": rx.number, "status": rx.status,
            "countersignature_id": str(row_id), "countersigned_at": now.isoformat()}


async def awaiting_countersignature(session: AsyncSession, ctx: HospitalContext, actor: Actor,
                                    principal: Principal) -> list[dict[str, Any]]:
    """What a paediatric doctor countersigns (REV-05, PD 17): each waiting prescription as signed (the patient,
    the guardian's presence, the diagnoses and items, the prescriber), so that nobody countersigns blind. Only a
    doctor whose 执业范围 covers paediatrics reads it; the read is audited."""
    member = await staff_for_user(session, principal.user_id)
    if member is None or principal.role != "doctor" or not covers_paediatrics(member.practice_scope):
        raise AccessRefused("REV-05", "only a doctor whose 执业范围 covers paediatrics countersigns children's "
                                      "prescriptions")
    found = (await session.execute(select(Prescription).where(
        col(Prescription.status) == PrescriptionStatus.AWAITING_COUNTERSIGN)
        .order_by(col(Prescription.issued_at)))).scalars().all()
    views = [{"prescription_id": str(rx.id), "prescription_number": rx.number, "department_code": rx.department_code,
              "issued_at": rx.issued_at.isoformat(), "status": rx.status,
              "prescription": open_json(ctx, rx.payload_sealed, "prescription.payload", rx.id),
              "findings": open_json(ctx, rx.findings_sealed, "prescription.findings", rx.id)} for rx in found]
    await audit_read(session, actor, "prescription.countersign_queue_read", subject_type="prescription",
                     records=[rx.id for rx in found], patients=[rx.patient_user_id for rx in found])
    return views
