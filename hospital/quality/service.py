"""Use cases of quality and safety: rate a visit, file and answer complaints, report adverse events.

Each reaches the supervision platform through the outbox (SUP-04); a complaint escalated to a dispute is also
part of the daily medical-dispute report.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.contracts import quality as contracts
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import NotFound
from hospital.core.outbox import emit
from hospital.identity.tokens import Principal
from hospital.quality import rules
from hospital.quality.models import AdverseEvent, Complaint, Rating
from hospital.visits.booking.models import Visit

__all__ = ["AdverseEventReport", "answer_complaint", "file_complaint", "list_adverse_events", "list_complaints",
           "rate_visit", "report_adverse_event"]


async def _visit_in_scope(session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> Visit:
    """A patient reaches their own visits, a doctor the visits assigned to them, a pharmacist any (SEC-01)."""
    visit = await session.get(Visit, visit_id)
    if visit is None or (principal.role == "patient" and visit.patient_user_id != principal.user_id) or (
        principal.role == "doctor" and visit.doctor_user_id != principal.user_id
    ) or principal.role not in ("patient", "doctor", "pharmacist"):
        raise NotFound("no such visit")
    return visit


async def rate_visit(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                     visit_id: uuid.UUID, score: int, comment: str) -> Rating:
    visit = await _visit_in_scope(session, principal, visit_id)
    already = (await session.execute(select(Rating.id).where(Rating.visit_id == visit.id))).first() is not None
    rules.check_rating(visit.state, score, already)
    rating = Rating(visit_id=visit.id, patient_user_id=principal.user_id, score=score, comment=comment.strip())
    session.add(rating)
    await session.flush()
    await append_audit(session, actor, "visit.rated", subject_type="visit", subject_id=visit.id, rule_id="QA-01",
                       detail={"score": score})
    # SUP-04: the platform refuses a rating whose business record it never received, so the dispatcher orders
    # this after the visit's own events (same subject).
    await emit(session, "rating.submitted", subject_type="visit", subject_id=visit.id, payload=contracts.RatingSubmitted(
        rating_id=str(rating.id), visit_id=str(visit.id), doctor_user_id=str(visit.doctor_user_id),
        department_code=visit.department_code, score=score, comment=rating.comment, rated_at=rating.created_at),
        cipher=ctx.cipher)  # the comment is sealed (REC-03)
    await session.commit()
    return rating


async def file_complaint(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal, *,
                         category: str, description: str, visit_id: uuid.UUID | None) -> Complaint:
    parsed = rules.check_complaint(category, description)
    if visit_id is not None:
        await _visit_in_scope(session, principal, visit_id)
    complaint = Complaint(complainant_user_id=principal.user_id, visit_id=visit_id, category=parsed,
                          description=description.strip())
    session.add(complaint)
    await session.flush()
    await append_audit(session, actor, "complaint.filed", subject_type="complaint", subject_id=complaint.id,
                       rule_id="QA-01", detail={"category": parsed.value})
    await emit(session, "complaint.filed", subject_type="complaint", subject_id=complaint.id, version=1,
               payload=contracts.ComplaintFiled(
                   complaint_id=str(complaint.id), visit_id=str(visit_id) if visit_id else None, category=parsed.value,
                   description=complaint.description, filed_at=complaint.created_at),
               cipher=ctx.cipher)  # the patient's own words are sealed (REC-03)
    await session.commit()
    return complaint


async def answer_complaint(session: AsyncSession, ctx: HospitalContext, actor: Actor, complaint_id: uuid.UUID,
                           outcome: str, response: str) -> Complaint:
    complaint = (await session.execute(
        select(Complaint).where(Complaint.id == complaint_id).with_for_update())).scalar_one_or_none()
    if complaint is None:
        raise NotFound("no such complaint")
    status = rules.check_complaint_response(complaint.status, outcome, response)
    complaint.status, complaint.response = status.value, response.strip()
    complaint.handled_by_user_id, complaint.handled_at = actor.user_id, ctx.now()
    complaint.version += 1
    complaint.touch()
    await session.flush()
    await append_audit(session, actor, f"complaint.{status.value}", subject_type="complaint", subject_id=complaint.id,
                       rule_id="QA-01")
    dispute = status is rules.ComplaintStatus.DISPUTE
    await emit(session, f"complaint.{status.value}", subject_type="complaint", subject_id=complaint.id,
               version=complaint.version, payload=contracts.ComplaintAnswered(
                   complaint_id=str(complaint.id), status="dispute" if dispute else "resolved",
                   response=complaint.response, handled_at=complaint.handled_at, is_dispute=dispute),
               cipher=ctx.cipher)
    await session.commit()
    return complaint


async def list_complaints(session: AsyncSession, principal: Principal) -> list[Complaint]:
    query = select(Complaint).order_by(Complaint.created_at.desc())  # type: ignore[attr-defined]
    if principal.role != "admin":
        query = query.where(Complaint.complainant_user_id == principal.user_id)
    return list((await session.execute(query)).scalars().all())


@dataclass(frozen=True, slots=True)
class AdverseEventReport:
    kind: str
    severity: str
    occurred_on: date
    description: str
    visit_id: uuid.UUID | None = None
    drug_code: str | None = None


async def report_adverse_event(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                               report: AdverseEventReport) -> AdverseEvent:
    kind, severity = rules.check_adverse_event(report.kind, report.severity, report.occurred_on, ctx.today(),
                                               report.description, report.drug_code)
    visit = await _visit_in_scope(session, principal, report.visit_id) if report.visit_id is not None else None
    event = AdverseEvent(reporter_user_id=principal.user_id, reporter_role=principal.role, visit_id=report.visit_id,
                         kind=kind.value, severity=severity.value, occurred_on=report.occurred_on,
                         description=report.description.strip(), drug_code=report.drug_code)
    session.add(event)
    await session.flush()
    await append_audit(session, actor, "adverse_event.reported", subject_type="adverse_event", subject_id=event.id,
                       rule_id="QA-01", detail={"kind": kind.value, "severity": severity.value})
    await emit(session, "adverse_event.reported", subject_type="adverse_event", subject_id=event.id,
               payload=contracts.AdverseEventReported(
                   adverse_event_id=str(event.id), kind=kind.value, severity=severity.value,
                   occurred_on=report.occurred_on, description=event.description, drug_code=report.drug_code,
                   visit_id=str(report.visit_id) if report.visit_id else None, reporter_role=principal.role,
                   # Who was harmed and who reports it: a FHIR platform's AdverseEvent needs its subject (SUP-04).
                   patient_id=str(visit.patient_id) if visit else None, reporter_user_id=str(principal.user_id)),
               cipher=ctx.cipher)
    await session.commit()
    return event


async def list_adverse_events(session: AsyncSession) -> list[AdverseEvent]:
    return list((await session.execute(select(AdverseEvent).order_by(AdverseEvent.created_at.desc()))).scalars().all())  # type: ignore[attr-defined]


