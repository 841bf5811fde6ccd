"""The pharmacy's dispensing queue (RX-08)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.context import HospitalContext
from hospital.contracts.prescription_views import PrescriptionView
from hospital.core.audit import Actor
from hospital.identity.tokens import Principal
from hospital.prescriptions.models import Prescription
from hospital.prescriptions.queries import audit_read, prescription_views
from hospital.prescriptions.rules import PrescriptionStatus

__all__ = ["dispensing_queue"]


async def dispensing_queue(session: AsyncSession, ctx: HospitalContext, principal: Principal, *,
                          actor: Actor) -> list[PrescriptionView]:
    """Approved prescriptions not yet dispensed, oldest first (RX-08)."""
    if principal.role != "pharmacist":
        return []
    query = select(Prescription).where(Prescription.status == PrescriptionStatus.APPROVED,
                                       col(Prescription.dispensed_at).is_(None))
    found = (await session.execute(query.order_by(col(Prescription.issued_at)))).scalars().all()
    views = await prescription_views(session, ctx, principal, found)
    await audit_read(session, actor, principal, found, what="dispensing_queue")
    return views
