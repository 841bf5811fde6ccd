"""Quality events (QA-01, SUP-04) on a FHIR platform: an adverse event of a visit becomes an AdverseEvent;
ratings, complaints and disputes have no FHIR R4 resource, each says why (the gateway takes them,
mapping/quality.py)."""

from __future__ import annotations

from datetime import datetime, time

from fhir.resources.R4B.adverseevent import AdverseEvent

from connectors.supervision.fhir.resources import build, entries, identifier, practitioner_ref, ref
from connectors.supervision.mapping.base import After, EventView, MapContext, Mapped, Mapper, NotReported, not_reported
from hospital.contracts.quality import AdverseEventReported

__all__ = ["FHIR_MAPPERS"]


AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_CATEGORY = "http://terminology.hl7.org/CodeSystem/adverse-event-category"
# FHIR's severity scale stops at severe; a death is severe and serious (results in death).
SEVERITY = {"mild": "mild", "moderate": "moderate", "severe": "severe", "death": "severe"}
CATEGORY = {"drug": ("medication-mishap", "Medication Mishap"), "medical": ("procedure-mishap", "Procedure Mishap")}


def adverse_event(event: EventView[AdverseEventReported], ctx: MapContext) -> Mapped | NotReported:
    """医疗/药品不良事件 of a visit (QA-01): the patient, the visit, the reporter, the suspected drug."""
    p = event.data
    if not p.patient_id:
        return NotReported("an adverse event not tied to a visit names no patient, and AdverseEvent needs its "
                           "subject; the gateway takes it (pushMedicalDispute)")
    kind = CATEGORY.get(p.kind, ("wrong-body-site", "Wrong Body Site"))
    clinician = p.reporter_role in ("doctor", "pharmacist", "nurse")
    reporter = ctx.staff(user_id=p.reporter_user_id) if clinician and p.reporter_user_id else None
    serious = p.severity in ("severe", "death")
    # The suspected drug by its formulary code, a logical reference: the Medication exists only where the
    # catalogue was filed, and the report must not wait for it.
    suspect = [{"instance": {"type": "Medication", "identifier": {"system": "urn:hospital:formulary",
                                                                  "value": p.drug_code},
                             "display": p.drug_code}}] if p.drug_code else None
    resource = build(
        AdverseEvent, id=p.adverse_event_id,
        identifier=identifier("adverse-event", p.adverse_event_id), actuality="actual",
        category=[{"coding": [{"system": AE_CATEGORY, "code": kind[0], "display": kind[1]}]}],
        event={"text": p.description}, subject=ref("Patient", p.patient_id),
        encounter=ref("Encounter", p.visit_id) if p.visit_id else None,
        date=datetime.combine(p.occurred_on, time(0), tzinfo=ctx.tz), recordedDate=event.created_at,
        recorder=practitioner_ref(reporter) if reporter else None,
        severity={"coding": [{"system": AE_SEVERITY, "code": SEVERITY.get(p.severity, "moderate")}],
                  "text": p.severity},
        seriousness={"coding": [{"system": AE_SERIOUSNESS, "code": "serious" if serious else "non-serious"}]},
        suspectEntity=suspect)
    after = [After("visit", p.visit_id)] if p.visit_id else []
    if reporter:
        after.append(After("staff", reporter.staff_id))
    return entries(resource, after=tuple(after))


FHIR_MAPPERS: dict[str, Mapper] = {
    "rating.submitted": not_reported("FHIR R4 has no resource for a satisfaction rating; the gateway takes it "
                                      "(uploadBusinessInfoAfter)"),
    "complaint.filed": not_reported("a complaint is handled in the hospital (QA-01)"),
    "complaint.resolved": not_reported("a complaint is handled in the hospital (QA-01)"),
    "complaint.dispute": not_reported("FHIR R4 has no resource for a medical dispute; the gateway takes it "
                                       "(pushMedicalDispute)"),
    "adverse_event.reported": adverse_event,
    "supervision.daily_disputes": not_reported("the daily dispute check-in is the gateway's (pushMedicalDispute); "
                                                "a FHIR platform takes no empty push"),
}
