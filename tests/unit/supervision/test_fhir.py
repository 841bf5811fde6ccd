"""The FHIR adapter: the events the areas emit (their contract Structs, hospital/contracts) as FHIR R4 resources
validated by fhir.resources, and the transport's transaction Bundle and answer classification (SUP-02 for FHIR
platforms). The whole real day is mapped in tests/integration/connector/test_real_events_fhir.py; these are the
cases a day does not reach (a minor with a guardian, a delivered parcel, a suspected infection, the catalogue)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from connectors.supervision.catalogue import catalogue_payload
from connectors.supervision.fhir import fhir_registry, map_fhir_event
from connectors.supervision.fhir.platform import FhirPlatform, classify_fhir, transaction
from connectors.supervision.gateway.responses import Accepted, FixData, Retry
from connectors.supervision.mapping import MapContext, Mapped, MappingFailed, NotReported, registry
from hospital.contracts import EVENT_PAYLOADS, Payload
from hospital.contracts.biometrics import FaceVerified
from hospital.contracts.visits import Guardian, InfectiousFlag, PriorDiagnosis, Referral, RevisitRecord
from hospital.prescriptions.formulary.tables import load_formulary
from tests import payloads
from tests.unit.supervision.test_mapping import (
    AT,
    CHILD,
    CTX,
    DISPENSING,
    DOCTOR,
    PATIENT,
    PHARMACIST,
    RX,
    STAFF_PAYLOAD,
    VISIT,
    Refs,
    event,
)

pytestmark = pytest.mark.requirement("SUP-02")

RECORD, PRIOR = "mr-1", "pd-1"
DOCTOR_JWS, REVIEW_JWS, SHA = payloads.DOCTOR_JWS, payloads.REVIEW_JWS, payloads.SHA


def revisit(patient_id: str = PATIENT.patient_id, **changes: Any) -> RevisitRecord:
    """A revisit record as the visits area emits it, at the end of a visit (started 09:10, ended 09:25)."""
    prior = PriorDiagnosis(prior_diagnosis_id=PRIOR, icd10_code="I10", name="原发性高血压",
                           institution="示范市第一人民医院", diagnosed_on=(AT - timedelta(days=100)).date(),
                           document_type="outpatient_record", document_sha256=SHA)
    return payloads.revisit_record(VISIT, patient_id, DOCTOR.user_id, AT,
                                   **{"prior_diagnosis": prior, "medical_record_id": RECORD, **changes})


# Twice a day, half a tablet, for two weeks.
ITEM = payloads.prescription_item(dose_per_time="2.5", times_per_day=2, days=14, usage="口服，早晚")
SUBMITTED = payloads.prescription_submitted(RX, VISIT, PATIENT.patient_id, DOCTOR.staff_id, AT,
                                            document_changes={"items": [ITEM]})
DISPENSED = payloads.dispensed(DISPENSING, RX, PHARMACIST.user_id, AT + timedelta(hours=1))


def review(decision: str, reasons: list[str]) -> Payload:
    return payloads.reviewed(RX, PHARMACIST.staff_id, AT + timedelta(minutes=5), decision=decision, reasons=reasons)


class Earlier(Refs):
    """The directory after `prepare`: the prescription's and the dispensing's first events are loaded."""

    found = {("prescription.submitted", RX): SUBMITTED, ("dispensing.dispensed", DISPENSING): DISPENSED}


LOADED = MapContext(CTX.organ_id, CTX.organ_name, CTX.tz, Earlier())


def resources(event_type: str, payload: Payload, ctx: MapContext = LOADED) -> dict[str, list[dict[str, Any]]]:
    outcome = map_fhir_event(event(event_type, payload), ctx)
    assert isinstance(outcome, Mapped), outcome
    found: dict[str, list[dict[str, Any]]] = {}
    for resource in outcome.records:
        found.setdefault(resource["resourceType"], []).append(resource)
    return found


def decoded(signatures: list[dict[str, Any]]) -> list[str]:
    return [base64.b64decode(s["data"]).decode() for s in signatures]


def test_a_clinician_is_a_practitioner_identified_by_id_number_with_a_role_in_the_organization() -> None:
    found = resources("staff.record", STAFF_PAYLOAD)
    (person,), (role,) = found["Practitioner"], found["PractitionerRole"]
    assert person["id"] == DOCTOR.staff_id and person["identifier"][0]["value"] == DOCTOR.id_number
    assert [q["code"]["text"] for q in person["qualification"]] == ["physician_qualification", "physician_practice"]
    assert role["practitioner"]["reference"] == f"Practitioner/{DOCTOR.staff_id}"
    assert role["code"][0]["coding"][0]["code"] == "doctor"


def test_a_completed_visit_is_an_encounter_with_the_prior_diagnosis_its_document_and_this_diagnosis() -> None:
    found = resources("visit.completed", revisit())
    (encounter,), (document_ref,) = found["Encounter"], found["DocumentReference"]
    assert encounter["status"] == "finished" and encounter["class"]["code"] == "VR"
    assert encounter["period"] == {"start": "2024-06-12T01:10:00Z", "end": "2024-06-12T01:25:00Z"}
    prior = next(x for x in found["Condition"] if x["id"] == PRIOR)
    assert prior["evidence"][0]["detail"][0]["reference"] == f"DocumentReference/{document_ref['id']}"
    assert document_ref["identifier"][0]["value"] == SHA
    assert prior["code"]["coding"][0] == {"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10",
                                          "display": "原发性高血压"}
    present = next(x for x in found["Condition"] if x["id"] != PRIOR)
    assert present["evidence"][0]["detail"][0]["reference"] == f"DocumentReference/{RECORD}"
    assert [d["condition"]["reference"] for d in encounter["diagnosis"]] == [f"Condition/{present['id']}",
                                                                              f"Condition/{PRIOR}"]
    assert found["Patient"][0]["identifier"][0]["value"] == PATIENT.id_number
    outcome = map_fhir_event(event("visit.completed", revisit()), LOADED)
    assert isinstance(outcome, Mapped) and ("medical_record", RECORD) in {(a.subject_type, a.subject_id)
                                                                         for a in outcome.after}


def test_a_visit_at_each_stage_and_a_withdrawn_one_is_cancelled() -> None:
    booked = revisit(state="requested", accepted_at=None, revisit_confirmed_at=None, started_at=None, ended_at=None,
                     answered=False, outcome=None, present_diagnosis=None, medical_record_id=None)
    (planned,) = resources("visit.booked", booked)["Encounter"]
    assert planned["status"] == "planned" and planned["period"]["start"].startswith(AT.date().isoformat())
    assert [h["status"] for h in planned["statusHistory"]] == ["planned"]
    withdrawn = revisit(state="cancelled", accepted_at=None, started_at=None, ended_at=AT, answered=False,
                        present_diagnosis=None, medical_record_id=None)
    assert resources("visit.cancelled", withdrawn)["Encounter"][0]["status"] == "cancelled"


def test_a_minor_comes_with_a_guardian_and_a_terminated_visit_refers_offline_flagging_the_suspected_infection() -> None:
    payload = revisit(CHILD.patient_id, state="terminated", present_diagnosis=None, medical_record_id=None,
                      patient_age=4, guardian=Guardian(name="小明妈妈", id_number="110105198801011234",
                                                       relationship="母亲", mobile="13900000000",
                                                       present_confirmed=True),
                      termination_reason="suspected_infectious", referred_offline=True, infectious_flag=True,
                      referral=Referral(institution="示范市传染病医院", department="发热门诊", advice="尽快就诊",
                                        urgent=True),
                      infectious=InfectiousFlag(source="doctor", suspected=True, note="发热三天", icd10_code="A01.0",
                                                disease_zh="伤寒"))
    found = resources("visit.terminated", payload)
    (guardian,), (encounter,), (referral,) = found["RelatedPerson"], found["Encounter"], found["ServiceRequest"]
    assert guardian["identifier"][0]["value"] == "110105198801011234" and guardian["relationship"][0]["text"] == "母亲"
    assert {p["individual"]["reference"] for p in encounter["participant"]} == {
        f"Practitioner/{DOCTOR.staff_id}", f"RelatedPerson/{guardian['id']}"}
    disposition = encounter["hospitalization"]["dischargeDisposition"]
    assert (disposition["text"], disposition["coding"][0]["code"]) == ("suspected_infectious", "other-hcf")
    assert (referral["priority"], referral["performer"][0]["display"]) == ("urgent", "示范市传染病医院")
    (suspected,) = [c for c in found["Condition"] if c["id"] != PRIOR]
    assert suspected["code"]["coding"][0]["code"] == "A01.0"
    assert suspected["verificationStatus"]["coding"][0]["code"] == "provisional"


def test_the_signed_emr_is_a_document_of_the_patient_with_the_doctors_signature() -> None:
    found = resources("emr.signed", payloads.emr_signed(RECORD, VISIT, PATIENT.patient_id, DOCTOR.user_id, AT))
    (note,), (provenance,) = found["DocumentReference"], found["Provenance"]
    assert note["id"] == RECORD and note["subject"] == {"reference": f"Patient/{PATIENT.patient_id}",
                                                        "display": PATIENT.name}
    record = json.loads(base64.b64decode(note["content"][0]["attachment"]["data"]))
    assert (record["diagnosis_icd10"], record["visited_at"]) == ("I10", "2024-06-12T01:10:00Z")
    assert decoded(provenance["signature"]) == [DOCTOR_JWS]


def test_a_prescription_is_a_draft_when_signed_and_the_same_request_active_on_approval_with_both_signatures() -> None:
    submitted = resources("prescription.submitted", SUBMITTED)
    (draft,) = submitted["MedicationRequest"]
    assert draft["status"] == "draft"
    dose = draft["dosageInstruction"][0]
    assert (dose["doseAndRate"][0]["doseQuantity"]["value"], dose["timing"]["repeat"]["frequency"]) == (2.5, 2)
    assert (dose["route"]["text"], draft["dispenseRequest"]["expectedSupplyDuration"]["value"]) == ("口服", 14)
    (finding,) = submitted["DetectedIssue"]
    assert (finding["status"], finding["severity"], finding["code"]["coding"][0]["code"]) == (
        "preliminary", "moderate", "RX-03")
    assert decoded(submitted["Provenance"][0]["signature"]) == [DOCTOR_JWS]
    approved = resources("prescription.approved", review("approve", []))
    (active,) = approved["MedicationRequest"]
    assert (active["id"], active["status"]) == (draft["id"], "active")
    (provenance,) = approved["Provenance"]
    assert decoded(provenance["signature"]) == [DOCTOR_JWS, REVIEW_JWS]
    assert [s["type"][0]["code"] for s in provenance["signature"]] == ["1.2.840.10065.1.12.1.1",
                                                                       "1.2.840.10065.1.12.1.5"]
    assert [a["who"]["reference"] for a in provenance["agent"]] == [f"Practitioner/{DOCTOR.staff_id}",
                                                                     f"Practitioner/{PHARMACIST.staff_id}"]
    (seen,) = approved["DetectedIssue"]  # the warning, seen and approved over by the pharmacist
    assert (seen["id"], seen["status"]) == (finding["id"], "final")
    assert seen["mitigation"][0]["author"]["reference"] == f"Practitioner/{PHARMACIST.staff_id}"


def test_a_rejected_prescription_is_cancelled_with_the_pharmacists_reasons_as_detected_issues() -> None:
    found = resources("prescription.rejected", review("reject", ["剂量偏低", "疗程过长"]))
    (request,) = found["MedicationRequest"]
    assert request["status"] == "cancelled" and request["statusReason"]["text"] == "剂量偏低；疗程过长"
    reasons = [i for i in found["DetectedIssue"] if i.get("author")]
    assert [i["detail"] for i in reasons if i["code"]["coding"][0]["code"] == "RX-06"] == ["剂量偏低", "疗程过长"]
    assert {f"DetectedIssue/{i['id']}" for i in found["DetectedIssue"]} == {r["reference"] for r in request["detectedIssue"]}
    assert found["Provenance"][0]["signature"][1]["type"][0]["display"] == "Review Signature"


def test_a_review_whose_signed_document_is_unknown_fails_rather_than_guessing() -> None:
    with pytest.raises(MappingFailed, match=r"no prescription\.submitted event"):
        map_fhir_event(event("prescription.approved", review("approve", [])), CTX)


def test_a_delivered_parcel_completes_the_dispense_naming_who_dispensed_it() -> None:
    payload = payloads.delivery_updated(DISPENSING, RX, DISPENSED.dispensed_at, delivered=True)
    (dispense,) = resources("dispensing.delivery_updated", payload)["MedicationDispense"]
    assert dispense["status"] == "completed" and dispense["receiver"][0]["reference"] == f"Patient/{PATIENT.patient_id}"
    assert dispense["performer"][0]["actor"]["reference"] == f"Practitioner/{PHARMACIST.staff_id}"
    assert dispense["whenHandedOver"].startswith((AT + timedelta(days=1)).date().isoformat())
    assert [n["text"] for n in dispense["note"]][1:] == ["dispensed", "shipped", "delivered: 本人签收"]


def test_the_catalogue_is_one_medication_per_drug_and_controlled_ones_are_inactive() -> None:
    medications = resources("formulary.catalogue", catalogue_payload(load_formulary()))["Medication"]
    by_code = {m["code"]["coding"][0]["code"]: m for m in medications}
    assert len(by_code) == len(load_formulary())
    assert (by_code["C08CA01-tab-5mg"]["status"], by_code["N02AA01-tab-10mg"]["status"]) == ("active", "inactive")


def test_face_verifications_are_audit_events_with_their_outcome() -> None:
    payload = FaceVerified(verification_id="v-1", user_id=DOCTOR.user_id, at=AT, passed=False, reason="mismatch")
    (audit,) = resources("face.verification", payload)["AuditEvent"]
    assert (audit["type"]["code"], audit["outcome"]) == ("110114", "4")
    assert audit["entity"][0]["what"]["identifier"]["value"] == "v-1"


def test_every_contracted_event_type_is_decided_by_both_platforms_and_nothing_else() -> None:
    """The contract index (hospital/contracts) and the gateway's and the FHIR adapter's registries name the same
    event types: an event an area emits is never parked for want of a mapper, and no mapper waits for an event no
    area emits (the first contract's review.* and dispensing.shipped/delivered/collected are gone)."""
    assert set(registry()) == set(fhir_registry()) == set(EVENT_PAYLOADS)
    rating = payloads.rating("r", VISIT, DOCTOR.user_id, AT)
    assert isinstance(map_fhir_event(event("rating.submitted", rating), CTX), NotReported)


def test_the_transaction_bundle_puts_each_resource_by_id() -> None:
    found = map_fhir_event(event("prescription.approved", review("approve", [])), LOADED)
    assert isinstance(found, Mapped)
    bundle = transaction(found.records)
    assert bundle["type"] == "transaction"
    assert {e["request"]["method"] for e in bundle["entry"]} == {"PUT"}
    assert all(e["request"]["url"] == f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"])


@pytest.mark.parametrize(("status", "kind"), [(200, Accepted), (503, Retry), (429, Retry), (422, FixData)])
def test_fhir_answers_are_classified_like_the_gateways(status: int, kind: type) -> None:
    outcome = classify_fhir(status, json.dumps({"resourceType": "OperationOutcome",
                                                "issue": [{"severity": "error", "diagnostics": "bad code"}]}))
    assert isinstance(outcome, kind)
    if isinstance(outcome, FixData):
        assert outcome.msg == "bad code"


async def test_the_transport_posts_the_bundle_as_fhir_json() -> None:
    seen: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "transaction-response"})

    found = map_fhir_event(event("staff.record", STAFF_PAYLOAD), CTX)
    assert isinstance(found, Mapped)
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        outcome = await FhirPlatform("http://fhir/r4", http).deliver(event("staff.record", STAFF_PAYLOAD), found, CTX)
    assert isinstance(outcome, Accepted)
    assert seen[0].headers["content-type"] == "application/fhir+json"
    assert json.loads(seen[0].content)["entry"][0]["resource"]["resourceType"] == "Practitioner"


def test_a_value_fhir_refuses_fails_the_mapping_naming_the_resource_and_field() -> None:
    # The contract types the payload (a birth date is a date); FHIR's own rules still apply: an id has no spaces.
    with pytest.raises(MappingFailed, match=r"Practitioner.*'id'"):
        map_fhir_event(event("staff.record", payloads.staff_record("staff 1")), CTX)
