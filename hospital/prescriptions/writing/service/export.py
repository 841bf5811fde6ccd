"""The export of a reviewed prescription (RX-08, issue 19): the self-contained bundle, both signatures, the CA
certificate, the CRL and the RFC 3161 timestamps, that a pharmacy or the regulator verifies offline.
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
from hospital.prescriptions.models import PrescriptionReview
from hospital.prescriptions.queries import open_json, prescription_in_scope
from hospital.signing import service as signing
from hospital.signing.export import build_export_bundle

__all__ = ["export_prescription"]


async def export_prescription(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                              prescription_id: uuid.UUID) -> dict[str, Any]:
    """The self-contained bundle a pharmacy or the regulator verifies offline (`hospital rx verify`)."""
    rx = await prescription_in_scope(session, principal, prescription_id, now=ctx.now())
    review = (await session.execute(select(PrescriptionReview).where(
        PrescriptionReview.prescription_id == rx.id))).scalar_one_or_none()
    if review is None:
        raise InvalidTransition("only a reviewed prescription is exported: it carries the pharmacist's signature",
                                current_state=rx.status, rule_id="RX-06")
    authority = await signing.hospital_signing(session, ctx)
    doctor_jws = open_json(ctx, rx.doctor_jws_sealed, "prescription.doctor_jws", rx.id)
    review_jws = open_json(ctx, review.review_jws_sealed, "review.jws", review.id)
    bundle = build_export_bundle(
        prescription=open_json(ctx, rx.payload_sealed, "prescription.payload", rx.id),
        prescription_jws=doctor_jws, review_jws=review_jws,
        ca_certificate=authority.ca.certificate, crl=await signing.current_crl(session, ctx),
        exported_at=ctx.now(),  # RFC 3161 tokens: the bundle proves when each signature was made (issue 19)
        timestamps=await signing.timestamp_tokens(session, {"prescription_jws": doctor_jws, "review_jws": review_jws}))
    await append_audit(session, actor, "prescription.exported", subject_type="prescription", subject_id=rx.id,
                       rule_id="RX-08", detail={"number": rx.number, "status": rx.status})
    await session.commit()
    return bundle
