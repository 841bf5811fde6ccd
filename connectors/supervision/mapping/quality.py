"""Quality events (SUP-04): ratings, medical disputes and adverse events, and the daily dispute check-in.

A complaint is handled inside the hospital (QA-01); only one escalated to a medical dispute (`complaint.dispute`)
is pushed, with what was filed read from its `complaint.filed` event. Adverse events are pushed as reported.
`pushMedicalDispute` is due every day: the dispatcher adds a `supervision.daily_disputes` event for each
past day; it pushes an empty array when the day had no dispute or adverse event (the check-in)."""

from __future__ import annotations

from datetime import date
from typing import Any

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper, NotReported, Requires
from connectors.supervision.mapping.visits import REVISIT_METHOD

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


def rating(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    visit_id = str(event.require("visit_id"))
    doctor = ctx.staff(user_id=p["doctor_user_id"]) if p.get("doctor_user_id") else None
    score = p["score"] if "score" in p else event.require("satisfaction")  # 1–5 (QA-01), the platform's scale
    record = {
        **ctx.organ(), "evaluateID": str(event.require("rating_id")), "bussID": visit_id,
        "businessType": REVISIT_BUSINESS, "deptID": p.get("department_code", ""),
        "doctorId": doctor.staff_id if doctor else "",
        "satisfaction": score, "scoring": score,
        "evaluation": p.get("comment", ""), "evaluationTime": ctx.local_time(event.require("rated_at")),
    }
    # The platform refuses a rating of a record it does not hold.
    return Mapped(RATING_METHOD, [record], requires=(Requires(REVISIT_METHOD, visit_id),))


def _day_time(value: Any, ctx: MapContext) -> str:
    """A date (`occurred_on`) as the platform's time, midnight; a datetime as it is."""
    text = str(value or "")
    return f"{text} 00:00:00" if len(text) == 10 else ctx.local_time(value)


def dispute(event: EventView, ctx: MapContext) -> Mapped:
    """A complaint escalated to a medical dispute (医疗纠纷)."""
    p = event.payload
    complaint_id = str(event.require("complaint_id"))
    filed = ctx.earlier(FILED, complaint_id)
    record = {
        **ctx.organ(), "eventID": complaint_id, "businessType": DISPUTE_KIND["complaint"],
        "eventDescription": filed["description"], "eventDate": ctx.local_time(filed["filed_at"]),
        "eventReason": filed.get("category", ""), "takeSteps": p.get("response", ""),
        "damageDegree": NOT_ASSESSED, "reportPerson": COMPLAINANT,
        "reportDate": ctx.local_time(p.get("handled_at") or event.created_at),
    }
    return Mapped(DISPUTE_METHOD, [record])


def adverse_event(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    reason = str(p.get("kind", ""))
    if p.get("drug_code"):
        reason = f"{reason}: {p['drug_code']}"
    record = {
        **ctx.organ(), "eventID": str(event.require("adverse_event_id")),
        "businessType": DISPUTE_KIND["adverse_event"],
        "eventDescription": event.require("description"), "eventDate": _day_time(event.require("occurred_on"), ctx),
        "eventReason": reason, "damageDegree": event.require("severity"),
        "reportPerson": REPORTER_ROLE.get(str(p.get("reporter_role", "")), str(p.get("reporter_role", ""))),
        "reportDate": ctx.local_time(event.created_at),
    }
    return Mapped(DISPUTE_METHOD, [record])


def in_hospital(event: EventView, ctx: MapContext) -> NotReported:
    return NotReported("a complaint is handled in the hospital (QA-01); it is pushed only if escalated to a dispute")


def daily_check_in(event: EventView, ctx: MapContext) -> Mapped | NotReported:
    day = date.fromisoformat(str(event.require("day")))
    if int(event.get("dispute_events", 0)):
        return NotReported(f"{day} had disputes; they were pushed as they were reported")
    return Mapped(DISPUTE_METHOD, [], day=day)


MAPPERS: dict[str, Mapper] = {
    "rating.submitted": rating,
    "complaint.filed": in_hospital,
    "complaint.resolved": in_hospital,
    "complaint.dispute": dispute,
    "adverse_event.reported": adverse_event,
    DAILY_DISPUTES: daily_check_in,
}
