"""Quality events (SUP-04): ratings, medical disputes and adverse events, and the daily dispute check-in.

A complaint is handled inside the hospital (QA-01); only one escalated to a medical dispute (`complaint.dispute`)
is pushed, with what was filed read from its `complaint.filed` event. Adverse events are pushed as reported.
`pushMedicalDispute` is due every day: the dispatcher adds a `supervision.daily_disputes` event for each
past day; it pushes an empty array when the day had no dispute or adverse event (the check-in)."""

from __future__ import annotations

from typing import Any

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper, NotReported, Requires
from connectors.supervision.mapping.visits import REVISIT_METHOD
from hospital.contracts.quality import AdverseEventReported, ComplaintAnswered, ComplaintFiled, RatingSubmitted
from hospital.contracts.supervision import DailyDisputes

__all__ = ["DAILY_DISPUTES", "DISPUTE_EVENTS", "DISPUTE_METHOD", "MAPPERS", "RATING_METHOD"]

RATING_METHOD = "uploadBusinessInfoAfter"
DISPUTE_METHOD = "pushMedicalDispute"
DAILY_DISPUTES = "supervision.daily_disputes"
DISPUTE_EVENTS = ("complaint.dispute", "adverse_event.reported")  # the events pushed with DISPUTE_METHOD
FILED = "complaint.filed"
REVISIT_BUSINESS = "2"  # businessType of a rated revisit, as the platform's rating examples spell it
DISPUTE_KIND = {"complaint": "1", "adverse_event": "2"}
COMPLAINANT = "患者（投诉人）"  # complaints are filed by patients only (hospital/quality/api.py)
NOT_ASSESSED = "未评估"  # a complaint records no harm; the mediation assesses it
REPORTER_ROLE = {"doctor": "医师", "pharmacist": "药师", "nurse": "护士", "admin": "医务管理部门", "patient": "患者"}


def rating(event: EventView[RatingSubmitted], ctx: MapContext) -> Mapped:
    p = event.data
    doctor = ctx.staff(user_id=p.doctor_user_id)
    record = {
        **ctx.organ(), "evaluateID": p.rating_id, "bussID": p.visit_id,
        "businessType": REVISIT_BUSINESS, "deptID": p.department_code,
        "doctorId": doctor.staff_id,
        "satisfaction": p.score, "scoring": p.score,  # 1–5 (QA-01), the platform's scale
        "evaluation": p.comment, "evaluationTime": ctx.local_time(p.rated_at),
    }
    # The platform refuses a rating of a record it does not hold.
    return Mapped(RATING_METHOD, [record], requires=(Requires(REVISIT_METHOD, p.visit_id),))


def dispute(event: EventView[ComplaintAnswered], ctx: MapContext) -> Mapped:
    """A complaint escalated to a medical dispute (医疗纠纷)."""
    p = event.data
    filed = ctx.earlier(FILED, p.complaint_id, ComplaintFiled)
    record = {
        **ctx.organ(), "eventID": p.complaint_id, "businessType": DISPUTE_KIND["complaint"],
        "eventDescription": filed.description, "eventDate": ctx.local_time(filed.filed_at),
        "eventReason": filed.category, "takeSteps": p.response,
        "damageDegree": NOT_ASSESSED, "reportPerson": COMPLAINANT,
        "reportDate": ctx.local_time(p.handled_at),
    }
    return Mapped(DISPUTE_METHOD, [record])


def adverse_event(event: EventView[AdverseEventReported], ctx: MapContext) -> Mapped:
    p = event.data
    record = {
        **ctx.organ(), "eventID": p.adverse_event_id,
        "businessType": DISPUTE_KIND["adverse_event"],
        "eventDescription": p.description,
        "eventDate": f"{p.occurred_on.isoformat()} 00:00:00",  # the day it occurred, as the platform's time
        "eventReason": f"{p.kind}: {p.drug_code}" if p.drug_code else p.kind, "damageDegree": p.severity,
        "reportPerson": REPORTER_ROLE.get(p.reporter_role, p.reporter_role),
        "reportDate": ctx.local_time(event.created_at),
    }
    return Mapped(DISPUTE_METHOD, [record])


def in_hospital(event: EventView[Any], ctx: MapContext) -> NotReported:
    return NotReported("a complaint is handled in the hospital (QA-01); it is pushed only if escalated to a dispute")


def daily_check_in(event: EventView[DailyDisputes], ctx: MapContext) -> Mapped | NotReported:
    p = event.data
    if p.dispute_events:
        return NotReported(f"{p.day} had disputes; they were pushed as they were reported")
    return Mapped(DISPUTE_METHOD, [], day=p.day)


MAPPERS: dict[str, Mapper] = {
    "rating.submitted": rating,
    "complaint.filed": in_hospital,
    "complaint.resolved": in_hospital,
    "complaint.dispute": dispute,
    "adverse_event.reported": adverse_event,
    DAILY_DISPUTES: daily_check_in,
}
