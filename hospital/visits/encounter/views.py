"""What a visit's patient and doctor read of it: the whole visit with its record's state, and the prior-diagnosis
document the revisit rests on (a doctor's reading is audited, REV-04).

The visit's own fields are the booking sub-area's view (`visits.booking.views.visit_views`); this module adds what
only the encounter knows. Everything is read through the scoped queries (SEC-01).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit, audit_read
from hospital.core.errors import NotFound
from hospital.identity.models import Role
from hospital.identity.tokens import Principal
from hospital.visits.booking import queries
from hospital.visits.booking.models import Schedule
from hospital.visits.booking.views import visit_views
from hospital.visits.encounter.queries import medical_record_of_visit

__all__ = ["visit_detail", "visit_prior_document"]


async def visit_detail(session: AsyncSession, ctx: HospitalContext, principal: Principal,
                       visit_id: uuid.UUID, *, read_by: Actor | None = None) -> dict[str, Any]:
    """One visit of the caller's, with whether its record is signed (a patient never sees a draft). `read_by`: the
    read is the request itself (GET), audited as `visit.read` (SEC-02), not the answer to a change already audited."""
    visit = await queries.visit_of_participant(session, visit_id, principal.user_id, principal.role)
    schedule = await session.get(Schedule, visit.schedule_id)
    if schedule is None:
        raise NotFound("no such visit")
    record = await medical_record_of_visit(session, visit.id)
    view = (await visit_views(session, ctx, [(visit, schedule)], principal.role))[0]
    view["medical_record"] = None if record is None else {
        "signed": record.signed_at is not None, "signed_at": record.signed_at.isoformat() if record.signed_at else None}
    if principal.role == Role.PATIENT and record is not None and record.signed_at is None:
        view["medical_record"] = None  # a draft is the doctor's until signed off
    if read_by is not None:
        await audit_read(session, read_by, "visit.read", subject_type="visit", records=[visit.id],
                         patients=[visit.patient_user_id])
    return view


async def visit_prior_document(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                               visit_id: uuid.UUID) -> tuple[bytes, str]:
    """The prior-diagnosis document of a visit, for its patient or its doctor; a doctor's reading is audited
    (the records the revisit confirmation rests on, REV-04)."""
    visit = await queries.visit_of_participant(session, visit_id, principal.user_id, principal.role)
    record = await queries.prior_diagnosis_of_visit(session, visit)
    data = await ctx.blob_store().get(record.document_sha256)
    if principal.role == Role.DOCTOR:
        await append_audit(session, actor, "prior_diagnosis.document_read", subject_type="prior_diagnosis",
                           subject_id=record.id, rule_id="REV-04", detail={"visit_id": visit.id})
        await session.commit()
    return data, record.document_content_type
