"""Retention classes (REC-02): how long each kind of record must be kept before it may be purged.

Every area that creates a record asks `purge_not_before` for its date; the retention job
(`hospital.retention`) purges only what is due and checks each deletion with its REC-02 rules.
"""

from __future__ import annotations

import enum
from datetime import date

__all__ = ["RetentionClass", "due_for_purge", "purge_not_before"]


class RetentionClass(enum.StrEnum):
    """What a stored record is, for how long it must be kept (PD 16)."""

    MEDICAL_RECORD = "medical_record"  # 互联网诊疗病历记录, prescriptions, prior-diagnosis documents: ≥ 15 years
    CHAT = "chat"  # 图文对话: ≥ 3 years
    AUDIO_VIDEO = "audio_video"  # 音视频资料, recordings of the consultation: ≥ 3 years
    STAFF_RECORD = "staff_record"  # admission documents and photos: kept like medical records
    AUDIT_TRAIL = "audit_trail"  # kept as long as the longest record it traces (AUD-01)

    @property
    def years(self) -> int:
        return _YEARS[self]


# PD 16: medical records ≥ 15 years, chats and audio/video ≥ 3 years. The audit trail follows the records.
_YEARS = {
    RetentionClass.MEDICAL_RECORD: 15,
    RetentionClass.CHAT: 3,
    RetentionClass.AUDIO_VIDEO: 3,
    RetentionClass.STAFF_RECORD: 15,
    RetentionClass.AUDIT_TRAIL: 15,
}


def purge_not_before(retention: RetentionClass | str, closed_on: date) -> date:
    """The first day a record closed on `closed_on` may be purged: the anniversary after its full period.
    29 February with no 29 February that year gives 1 March, the later of the two candidates, so a retention
    period is never cut short."""
    year = closed_on.year + RetentionClass(retention).years
    try:
        return closed_on.replace(year=year)
    except ValueError:  # only 29 February can fail
        return date(year, 3, 1)


def due_for_purge(retention: RetentionClass | str, closed_on: date, today: date) -> bool:
    return today >= purge_not_before(retention, closed_on)
