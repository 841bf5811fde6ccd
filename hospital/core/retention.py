"""Retention classes (REC-02): how long each kind of record must be kept before it may be purged."""

from __future__ import annotations

import enum
from datetime import date

__all__ = ["RetentionClass", "purge_not_before"]


class RetentionClass(enum.StrEnum):
    MEDICAL_RECORD = "medical_record"  # EMR, prescriptions, prior-diagnosis documents: ≥ 15 years (PD 16)
    CHAT = "chat"  # text consultation: ≥ 3 years
    AUDIO_VIDEO = "audio_video"  # recordings of the consultation: ≥ 3 years
    STAFF_RECORD = "staff_record"  # admission documents and photos: kept like medical records

    @property
    def years(self) -> int:
        return {"medical_record": 15, "chat": 3, "audio_video": 3, "staff_record": 15}[self.value]


def purge_not_before(retention: RetentionClass, closed_on: date) -> date:
    """The first day a record closed on `closed_on` may be purged; 29 February rolls to 1 March."""
    year = closed_on.year + retention.years
    try:
        return closed_on.replace(year=year)
    except ValueError:
        return date(year, 3, 1)
