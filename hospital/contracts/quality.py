"""Events of the quality area (QA-01, SUP-04): ratings, complaints and disputes, adverse events."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

import msgspec

from hospital.contracts.base import AwareDatetime, Payload

__all__ = ["EVENTS", "AdverseEventReported", "ComplaintAnswered", "ComplaintFiled", "RatingSubmitted"]


class RatingSubmitted(Payload, kw_only=True):
    """`rating.submitted` (subject: the visit rated)."""

    SEALED: ClassVar[tuple[str, ...]] = ("comment",)  # the patient's own words (REC-03)

    rating_id: str
    visit_id: str
    doctor_user_id: str
    department_code: str
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]  # the platform's scale too
    comment: str = ""
    rated_at: AwareDatetime


class ComplaintFiled(Payload, kw_only=True):
    """`complaint.filed` (subject: the complaint): handled in the hospital unless escalated."""

    SEALED: ClassVar[tuple[str, ...]] = ("description",)

    complaint_id: str
    visit_id: str | None = None
    category: str
    description: str
    filed_at: AwareDatetime


class ComplaintAnswered(Payload, kw_only=True):
    """`complaint.resolved` / `complaint.dispute` (subject: the complaint): the hospital's answer; a dispute
    is escalated to a medical dispute (医疗纠纷) and pushed to the platform."""

    SEALED: ClassVar[tuple[str, ...]] = ("response",)

    complaint_id: str
    status: Literal["resolved", "dispute"]
    response: str
    handled_at: AwareDatetime
    is_dispute: bool


class AdverseEventReported(Payload, kw_only=True):
    """`adverse_event.reported` (subject: the adverse event): 医疗/药品不良事件 (QA-01)."""

    SEALED: ClassVar[tuple[str, ...]] = ("description",)

    adverse_event_id: str
    kind: str  # medical | drug
    severity: str  # mild | moderate | severe | death
    occurred_on: date
    description: str
    drug_code: str | None = None
    visit_id: str | None = None
    reporter_role: str
    reporter_user_id: str | None = None
    patient_id: str | None = None  # the patient of the visit, when tied to one


EVENTS: dict[str, type[Payload]] = {
    "rating.submitted": RatingSubmitted,
    "complaint.filed": ComplaintFiled,
    "complaint.resolved": ComplaintAnswered,
    "complaint.dispute": ComplaintAnswered,
    "adverse_event.reported": AdverseEventReported,
}
