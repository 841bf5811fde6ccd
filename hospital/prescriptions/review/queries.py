"""The pharmacist's review queue (RX-06)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hospital.context import HospitalContext
from hospital.contracts.prescription_views import PrescriptionView
from hospital.core.audit import Actor
from hospital.identity.tokens import Principal
from hospital.prescriptions.models import Prescription
from hospital.prescriptions.queries import audit_read, prescription_views, scoped_query
from hospital.prescriptions.rules import PrescriptionStatus

__all__ = ["review_queue"]


async def review_queue(session: AsyncSession, ctx: HospitalContext, principal: Principal, *,
                      actor: Actor) -> list[PrescriptionView]:
    """Prescriptions waiting for a pharmacist, oldest first, with their rule findings (RX-06)."""
    query = scoped_query(principal, ctx.now())
    if query is None or principal.role != "pharmacist":
        return []
    found = (await session.execute(query.where(Prescription.status == PrescriptionStatus.PENDING_REVIEW)
                                   .order_by(col(Prescription.issued_at)))).scalars().all()
    views = await prescription_views(session, ctx, principal, found)
    await audit_read(session, actor, principal, found, what="review_queue")
    return views
