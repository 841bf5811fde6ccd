"""Quality events (QA-01, SUP-04) on a FHIR platform: none has a resource here, each says why. The gateway
takes ratings, disputes and adverse events (mapping/quality.py)."""

from __future__ import annotations

from connectors.supervision.mapping.base import EventView, MapContext, Mapper, NotReported

__all__ = ["FHIR_MAPPERS"]


def _not_reported(reason: str) -> Mapper:
    def mapper(event: EventView, ctx: MapContext) -> NotReported:
        return NotReported(reason)

    return mapper


FHIR_MAPPERS: dict[str, Mapper] = {
    "rating.submitted": _not_reported("FHIR R4 has no resource for a satisfaction rating; the gateway takes it "
                                      "(uploadBusinessInfoAfter)"),
    "complaint.filed": _not_reported("a complaint is handled in the hospital (QA-01)"),
    "complaint.resolved": _not_reported("a complaint is handled in the hospital (QA-01)"),
    "complaint.dispute": _not_reported("FHIR R4 has no resource for a medical dispute; the gateway takes it "
                                       "(pushMedicalDispute)"),
    # AdverseEvent would fit, but its subject (the patient) is required and the event names none (only the visit).
    "adverse_event.reported": _not_reported("AdverseEvent needs the patient and adverse_event.reported names none; "
                                            "the gateway takes it (pushMedicalDispute)"),
    "supervision.daily_disputes": _not_reported("the daily dispute check-in is the gateway's (pushMedicalDispute); "
                                                "a FHIR platform takes no empty push"),
}
