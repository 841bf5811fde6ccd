"""Quality events (QA-01, SUP-04) on a FHIR platform: an adverse event of a visit becomes an AdverseEvent;
ratings, complaints and disputes have no FHIR R4 resource, each says why (the gateway takes them,
mapping/quality.py)."""

from __future__ import annotations

from fhir.resources.R4B.adverseevent import AdverseEvent

from connectors.supervision.fhir.resources import build, entries, identifier, practitioner_ref, ref
from connectors.supervision.mapping.base import After, EventView, MapContext, Mapped, Mapper, NotReported, not_reported

__all__ = ["FHIR_MAPPERS"]


AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_CATEGORY = "http://terminology.hl7.org/CodeSystem/adverse-event-category"
# FHIR's severity scale stops at severe; a death is severe and serious (results in death).
SEVERITY = {"mild": "mild", "moderate": "moderate", "severe": "severe", "death": "severe"}
CATEGORY = {"drug": ("medication-mishap", "Medication Mishap"), "medical": ("procedure-mishap", "Procedure Mishap")}


def adverse_event(event: EventView, ctx: MapContext) -> Mapped | NotReported:
    """医疗/药品不良事件 of a visit (QA-01): the patient, the visit, the reporter, the suspected drug."""
    p = event.payload
    if not p.get("patient_id"):
        return NotReported("an adverse event not tied to a visit names no patient, and AdverseEvent needs its "
                           "subject; the gateway takes it (pushMedicalDispute)")
    severity = str(event.require("severity"))
    kind = CATEGORY.get(str(event.require("kind")), ("wrong-body-site", "Wrong Body Site"))
    reporter = ctx.staff(user_id=p["reporter_user_id"]) if p.get("reporter_role") in ("doctor", "pharmacist", "nurse") \
        and p.get("reporter_user_id") else None
    serious = severity in ("severe", "death")
    # The suspected drug by its formulary code, a logical reference: the Medication exists only where the
    # catalogue was filed, and the report must not wait for it.
    suspect = [{"instance": {"type": "Medication", "identifier": {"system": "urn:hospital:formulary",
                                                                  "value": str(p["drug_code"])},
                             "display": str(p["drug_code"])}}] if p.get("drug_code") else None
    resource = build(
        AdverseEvent, id=str(event.require("adverse_event_id")),
        identifier=identifier("adverse-event", str(p["adverse_event_id"])), actuality="actual",
        category=[{"coding": [{"system": AE_CATEGORY, "code": kind[0], "display": kind[1]}]}],
        event={"text": str(event.require("description"))}, subject=ref("Patient", str(p["patient_id"])),
        encounter=ref("Encounter", str(p["visit_id"])) if p.get("visit_id") else None,
        date=ctx.moment(f"{event.require('occurred_on')}T00:00:00+08:00"), recordedDate=event.created_at,
        recorder=practitioner_ref(reporter) if reporter else None,
        severity={"coding": [{"system": AE_SEVERITY, "code": SEVERITY.get(severity, "moderate")}], "text": severity},
        seriousness={"coding": [{"system": AE_SERIOUSNESS, "code": "serious" if serious else "non-serious"}]},
        suspectEntity=suspect)
    after = [After("visit", str(p["visit_id"]))] if p.get("visit_id") else []
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
