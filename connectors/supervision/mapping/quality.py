"""Quality events (SUP-04): ratings, complaints and adverse events, and the daily dispute check-in.

`pushMedicalDispute` is due every day: the dispatcher adds a `supervision.daily_disputes` event for each
past day; it pushes an empty array when the day had no complaint or adverse event (the check-in)."""

from __future__ import annotations

from datetime import date

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper, NotReported, Requires
from connectors.supervision.mapping.visits import REVISIT_METHOD

__all__ = ["DAILY_DISPUTES", "DISPUTE_EVENT_PREFIXES", "DISPUTE_METHOD", "MAPPERS", "RATING_METHOD"]

RATING_METHOD = "uploadBusinessInfoAfter"
DISPUTE_METHOD = "pushMedicalDispute"
DAILY_DISPUTES = "supervision.daily_disputes"
DISPUTE_EVENT_PREFIXES = ("complaint.", "adverse_event.")
REVISIT_BUSINESS = "2"  # businessType of a rated revisit, as the platform's rating examples spell it
DISPUTE_KIND = {"complaint": "1", "adverse_event": "2"}


def rating(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    visit_id = str(event.require("visit_id"))
    doctor = ctx.staff(user_id=p["doctor_user_id"]) if p.get("doctor_user_id") else None
    record = {
        **ctx.organ(), "evaluateID": str(event.require("rating_id")), "bussID": visit_id,
        "businessType": REVISIT_BUSINESS, "deptID": p.get("department_code", ""),
        "doctorId": doctor.staff_id if doctor else "",
        "satisfaction": event.require("satisfaction"), "scoring": p.get("score", ""),
        "evaluation": p.get("comment", ""), "evaluationTime": ctx.local_time(event.require("rated_at")),
    }
    # The platform refuses a rating of a record it does not hold.
    return Mapped(RATING_METHOD, [record], requires=(Requires(REVISIT_METHOD, visit_id),))


def dispute(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    kind = event.event_type.split(".", 1)[0]
    record = {
        **ctx.organ(), "eventID": str(event.require("case_id")), "businessType": DISPUTE_KIND.get(kind, "9"),
        "patientName": p.get("patient_name", ""), "mobile": p.get("patient_phone", ""),
        "eventDescription": event.require("description"), "eventDate": ctx.local_time(event.require("occurred_at")),
        "eventReason": p.get("reason", ""), "takeSteps": p.get("steps_taken", ""),
        "damageDegree": p.get("damage_degree", ""), "improvements": p.get("improvements", ""),
        "reportDept": p.get("department", ""), "reportPerson": p.get("reporter", ""),
        "reportDate": ctx.local_time(p.get("reported_at") or event.created_at),
    }
    return Mapped(DISPUTE_METHOD, [record])


def update(event: EventView, ctx: MapContext) -> NotReported:
    return NotReported("the platform keeps one record per eventID (no version field): only the first report "
                       "of a complaint or adverse event is pushed")


def daily_check_in(event: EventView, ctx: MapContext) -> Mapped | NotReported:
    day = date.fromisoformat(str(event.require("day")))
    if int(event.get("dispute_events", 0)):
        return NotReported(f"{day} had disputes; they were pushed as they were reported")
    return Mapped(DISPUTE_METHOD, [], day=day)


MAPPERS: dict[str, Mapper] = {
    "rating.submitted": rating,
    "complaint.opened": dispute,
    "complaint.updated": update,
    "complaint.closed": update,
    "adverse_event.reported": dispute,
    "adverse_event.updated": update,
    DAILY_DISPUTES: daily_check_in,
}
