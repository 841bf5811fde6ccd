"""Printing an approved prescription as the sealed 处方笺 PDF: one use case, one transaction (RX-05, RX-06, RX-08).

Whoever may read the export may print it (the patient, the visit's doctor, a pharmacist): the same scope, the same
refusals (404 outside it, 409 before a pharmacist approved it). The read is audited and the export's own audit
entry is written in the same transaction (`export_prescription` commits it); the seal and, without
HOSPITAL_TSA_URL, the hospital's TSA are created in it on first use. The PDF is sealed after the commit: sealing
writes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import InvalidTransition
from hospital.identity.tokens import Principal
from hospital.institution.models import Department
from hospital.prescriptions.formulary.queries import formulary_of
from hospital.prescriptions.printing.document import (
    Attachment,
    CallbackTimeStamper,
    qr_text,
    seal_pdf,
    unsigned_pdf,
    url_tsa,
)
from hospital.prescriptions.printing.layout import paper_kind
from hospital.prescriptions.printing.sheet import jws_payload, printed_prescription
from hospital.prescriptions.printing.verify import ATTACHED_EXPORT, ATTACHED_PRESCRIPTION_JWS, ATTACHED_REVIEW_JWS
from hospital.prescriptions.queries import prescription_in_scope
from hospital.prescriptions.rules import PrescriptionStatus
from hospital.prescriptions.writing.service import export_prescription
from hospital.signing.authority import hospital_tsa
from hospital.signing.canonical import payload_sha256
from hospital.signing.export import bundle_to_json
from hospital.signing.seal import hospital_seal

__all__ = ["PrintedDocument", "print_prescription"]

JOSE = "application/jose"


class PrintedDocument:
    """The sealed PDF and the file name it is handed over as."""

    def __init__(self, pdf: bytes, number: str) -> None:
        self.pdf = pdf
        self.file_name = f"{number}.pdf"


async def print_prescription(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                             prescription_id: uuid.UUID) -> PrintedDocument:
    """The 处方笺 of an approved prescription in the caller's scope, sealed by the hospital."""
    rx = await prescription_in_scope(session, principal, prescription_id, now=ctx.now())
    if rx.status != PrescriptionStatus.APPROVED:
        # RX-06: only a pharmacist's approval puts a prescription into effect; no paper for anything else
        raise InvalidTransition("only a prescription a pharmacist approved is printed", current_state=rx.status,
                                rule_id="RX-06")
    department = (await session.execute(select(Department.name).where(
        Department.code == rx.department_code))).scalar_one_or_none()
    seal = await hospital_seal(session, ctx)
    tsa = None if ctx.settings.tsa_url else await hospital_tsa(session, ctx)
    await append_audit(session, actor, "prescription.printed", subject_type="prescription", subject_id=rx.id,
                       rule_id="RX-08", detail={"number": rx.number, "records": [str(rx.id)],
                                                "patients": [str(rx.patient_user_id)]})
    bundle = await export_prescription(session, ctx, actor, principal, prescription_id)  # commits
    payload: dict[str, Any] = bundle["prescription"]
    review = jws_payload(bundle["review_jws"])
    classes = []
    for item in payload.get("items", []):
        drug = formulary_of(ctx).get(str(item.get("drug_code", "")))
        classes.append(str(drug.controlled_class) if drug is not None else "none")
    age = (payload.get("patient") or {}).get("age")
    digest = payload_sha256(payload)
    printed = printed_prescription(payload, review, payload_sha256=digest, department_name=department,
                                   zone=ctx.time_zone,
                                   kind=paper_kind(classes, patient_age_years=age if isinstance(age, int) else None))
    base = ctx.settings.public_base_url.rstrip("/")
    qr = qr_text(number=rx.number, payload_sha256=digest, export_url=f"{base}/api/prescriptions/{rx.id}/export",
                 verify_url=f"{base}/api/rx/verify")
    unsigned = unsigned_pdf(printed, qr=qr, attachments=[
        Attachment(ATTACHED_PRESCRIPTION_JWS, bundle["prescription_jws"].encode("ascii"), JOSE,
                   "医师电子签名 (the doctor's compact JWS over the prescription payload)"),
        Attachment(ATTACHED_REVIEW_JWS, bundle["review_jws"].encode("ascii"), JOSE,
                   "药师审核电子签名 (the pharmacist's compact JWS over the review)"),
        Attachment(ATTACHED_EXPORT, bundle_to_json(bundle), "application/json",
                   "处方导出文件 (the export bundle: hospital rx verify)"),
    ])

    if ctx.settings.tsa_url:
        respond = url_tsa(ctx.settings.tsa_url)
    else:
        assert tsa is not None
        local = tsa

        def respond(request: bytes) -> bytes:
            return local.respond(request, ctx.now())

    return PrintedDocument(await seal_pdf(unsigned, seal, CallbackTimeStamper(respond)), rx.number)
