"""Quality events (SUP-04): ratings, medical disputes and adverse events, and the daily dispute check-in.

A complaint is pushed when it is filed and again when it is answered (resolved in the hospital, QA-01, or
escalated to a medical dispute), each a new version of one eventID; an answer reads what was filed from its
`complaint.filed` event. Adverse events are pushed as reported. Risk warnings (security incidents, face lockouts,
overridden prescription warnings: `security.py`, `biometrics.py`, `prescriptions.py`) go the same way, businessType 3.
`pushMedicalDispute` is due every day: the dispatcher adds a `supervision.daily_disputes` event for each
past day; it pushes an empty array when the day had no dispute or adverse event (the check-in)."""

from __future__ import annotations

from typing import Any

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper, NotReported, Requires
from connectors.supervision.mapping.visits import REVISIT_METHOD
from hospital.contracts.quality import AdverseEventReported, ComplaintAnswered, ComplaintFiled, RatingSubmitted
from hospital.contracts.supervision import DailyDisputes

__all__ = ["DAILY_DISPUTES", "DISPUTE_EVENTS", "DISPUTE_METHOD", "MAPPERS", "RATING_METHOD", "RISK_WARNING"]

RATING_METHOD = "uploadBusinessInfoAfter"
DISPUTE_METHOD = "pushMedicalDispute"
DAILY_DISPUTES = "supervision.daily_disputes"
# The events pushed with DISPUTE_METHOD (a day with any of them needs no empty check-in).
DISPUTE_EVENTS = ("complaint.filed", "complaint.resolved", "complaint.dispute", "adverse_event.reported",
                  "security.incident", "security.alert", "prescription.warnings_overridden")
FILED = "complaint.filed"
REVISIT_BUSINESS = "2"  # businessType of a rated revisit, as the platform's rating examples spell it
DISPUTE_KIND = {"complaint": "1", "adverse_event": "2"}
RISK_WARNING = "3"  # businessType of a risk warning (SUP-04)
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


def _complaint(filed: ComplaintFiled, ctx: MapContext, status: str, changed: Any, steps: str) -> dict[str, Any]:
    return {
        **ctx.organ(), "eventID": filed.complaint_id, "businessType": DISPUTE_KIND["complaint"],
        "eventDescription": filed.description, "eventDate": ctx.local_time(filed.filed_at),
        "eventReason": filed.category, "takeSteps": steps,
        "damageDegree": NOT_ASSESSED, "reportPerson": COMPLAINANT,
        "reportDate": ctx.local_time(changed), "eventStatus": status, "updateTime": ctx.local_time(changed),
    }


def filed(event: EventView[ComplaintFiled], ctx: MapContext) -> Mapped:
    """A complaint as it is filed (SUP-04), before the hospital answers it."""
    p = event.data
    return Mapped(DISPUTE_METHOD, [_complaint(p, ctx, "filed", p.filed_at, "")])


def answered(event: EventView[ComplaintAnswered], ctx: MapContext) -> Mapped:
    """The hospital's answer: resolved (QA-01), or escalated to a medical dispute (医疗纠纷)."""
    p = event.data
    first = ctx.earlier(FILED, p.complaint_id, ComplaintFiled)
    return Mapped(DISPUTE_METHOD, [_complaint(first, ctx, p.status, p.handled_at, p.response)])


def adverse_event(event: EventView[AdverseEventReported], ctx: MapContext) -> Mapped:
    p = event.data
    record = {
        **ctx.organ(), "eventID": p.adverse_event_id,
        "businessType": DISPUTE_KIND["adverse_event"],
        "eventDescription": p.description,
        "eventDate": f"{p.occurred_on.isoformat()} 00:00:00",  # the day it occurred, as the platform's time
        "eventReason": f"{p.kind}: {p.drug_code}" if p.drug_code else p.kind, "damageDegree": p.severity,
        "reportPerson": REPORTER_ROLE.get(p.reporter_role, p.reporter_role),
        "reportDate": ctx.local_time(event.created_at), "eventStatus": "reported",
        "updateTime": ctx.local_time(event.created_at),
    }
    return Mapped(DISPUTE_METHOD, [record])


def daily_check_in(event: EventView[DailyDisputes], ctx: MapContext) -> Mapped | NotReported:
    p = event.data
    if p.dispute_events:
        return NotReported(f"{p.day} had disputes; they were pushed as they were reported")
    return Mapped(DISPUTE_METHOD, [], day=p.day)


MAPPERS: dict[str, Mapper] = {
    "rating.submitted": rating,
    "complaint.filed": filed,
    "complaint.resolved": answered,
    "complaint.dispute": answered,
    "adverse_event.reported": adverse_event,
    DAILY_DISPUTES: daily_check_in,
}
