"""Wire schemas of the quality area's HTTP answers (hospital/quality/api.py, QA-01): a rating, a complaint and
its answer, an adverse-event report, beside the area's event payloads in quality.py."""

from __future__ import annotations

import msgspec

__all__ = ["AdverseEventView", "ComplaintView", "RatingView"]


class RatingView(msgspec.Struct, kw_only=True):
    rating_id: str
    visit_id: str
    score: int


class ComplaintView(msgspec.Struct, kw_only=True):
    complaint_id: str
    visit_id: str | None
    category: str
    description: str
    status: str  # open | resolved | dispute
    response: str | None
    filed_at: str  # ISO 8601 with offset
    handled_at: str | None


class AdverseEventView(msgspec.Struct, kw_only=True):
    adverse_event_id: str
    kind: str  # medical | drug
    severity: str  # mild | moderate | severe | death
    occurred_on: str  # ISO 8601 date
    description: str
    drug_code: str | None
    visit_id: str | None
    reporter_role: str
