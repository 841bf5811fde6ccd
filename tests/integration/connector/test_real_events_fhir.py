"""The events the areas really emit map to valid FHIR R4 resources (SUP-02 for FHIR-based platforms).

The same real day as test_real_events_map.py (over HTTP: book, accept, sign the EMR, prescribe, approve,
dispense, ship, complete, rate, complain; a prescription rejected, a visit withdrawn, another terminated with a
referral), then every outbox event through `map_fhir_event` exactly as the dispatcher reads it; what comes out
is compared with what the hospital answered over its API (the prior diagnosis, the signed export bundle).
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from litestar.testing import AsyncTestClient

from connectors.supervision.fhir import map_fhir_event
from connectors.supervision.fhir.resources import ICD10, ID_NUMBER_SYSTEM
from connectors.supervision.mapping import After, Mapped, MappingFailed, NotReported, UnmappedEvent
from hospital.config import Settings
from hospital.demo import DEMO_PATIENT
from tests.conftest import FakeClock
from tests.integration.connector.conftest import DispatcherFactory
from tests.integration.connector.real_day import a_real_day, mapped_views
from tests.integration.visits.journey import EMR

pytestmark = pytest.mark.requirement("SUP-02", "SUP-04")

Resources = dict[str, list[dict[str, Any]]]


def by_type(records: list[dict[str, Any]]) -> Resources:
    found: Resources = defaultdict(list)
    for record in records:
        found[record["resourceType"]].append(record)
    return found


def decoded(signature: dict[str, Any]) -> str:
    assert signature["sigFormat"] == "application/jose"
    return base64.b64decode(signature["data"]).decode("ascii")


async def test_every_event_of_a_real_day_maps_to_fhir_resources_that_say_what_the_hospital_did(
    china_after_midnight: datetime,
    client: AsyncTestClient[Any], clock: FakeClock, settings: Settings, demo: None, dispatchers: DispatcherFactory
) -> None:
    day = await a_real_day(client, clock)
    dispatcher = await dispatchers()
    views = await mapped_views(settings, dispatcher)
    problems: list[str] = []
    outcomes: dict[str, str] = {}
    bundles: dict[tuple[str, str], Mapped] = {}  # (event type, subject id) → its last event's resources
    for view in views:
        try:
            outcome = map_fhir_event(view, dispatcher.map_context())
        except MappingFailed as failed:
            problems.append(f"{view.event_type}: {failed.detail}")
            continue
        if isinstance(outcome, UnmappedEvent):
            problems.append(f"{view.event_type}: no FHIR mapper")
        elif isinstance(outcome, NotReported):
            outcomes[view.event_type] = "skipped"
        else:
            outcomes[view.event_type] = "resources"
            bundles[(view.event_type, view.subject_id)] = outcome
            for record in outcome.records:  # what goes on the wire parses back into the FHIR model
                model = get_fhir_model_class(record["resourceType"]).model_validate(record)
                if json.loads(model.model_dump_json()) != record:
                    problems.append(f"{view.event_type}: {record['resourceType']} does not round-trip")
    assert not problems, "\n".join(problems)
    resources = {"institution.licence", "staff.record", "face.verification", "visit.booked", "visit.accepted",
                 "visit.cancelled", "visit.completed", "visit.terminated", "emr.signed", "prescription.submitted",
                 "prescription.approved", "prescription.rejected", "dispensing.dispensed", "dispensing.delivery_updated",
                 "adverse_event.reported"}
    skipped = {"institution.department", "rating.submitted", "complaint.filed", "complaint.dispute"}
    assert {t for t, o in outcomes.items() if o == "resources"} >= resources
    assert {t for t, o in outcomes.items() if o == "skipped"} >= skipped

    def of(event_type: str, subject_id: str) -> Resources:
        return by_type(bundles[(event_type, subject_id)].records)

    # The patient, by the resident ID number they registered with (not a copy the mapper made up).
    visit = day.visit_id
    (person,) = of("visit.booked", visit)["Patient"]
    assert {"system": ID_NUMBER_SYSTEM, "value": DEMO_PATIENT.id_number} in person["identifier"]
    assert person["name"][0]["text"] == DEMO_PATIENT.real_name

    # The Encounter at each stage of each visit.
    statuses = {(t, s): of(t, s)["Encounter"][0]["status"] for t, s in bundles if t.startswith("visit.")}
    assert statuses == {("visit.booked", visit): "planned", ("visit.accepted", visit): "in-progress",
                        ("visit.started", visit): "in-progress", ("visit.completed", visit): "finished",
                        ("visit.booked", day.cancelled_visit_id): "planned",
                        ("visit.cancelled", day.cancelled_visit_id): "cancelled",
                        ("visit.booked", day.terminated_visit_id): "planned",
                        ("visit.accepted", day.terminated_visit_id): "in-progress",
                        ("visit.terminated", day.terminated_visit_id): "finished"}
    ended = of("visit.completed", visit)
    (encounter,) = ended["Encounter"]
    assert encounter["class"]["code"] == "VR" and encounter["subject"]["reference"] == f"Patient/{person['id']}"
    assert [h["status"] for h in encounter["statusHistory"]] == ["planned", "in-progress"]
    assert encounter["period"]["start"] <= encounter["period"]["end"]

    # The prior diagnosis the revisit continues (REV-01), with the document the patient uploaded as evidence.
    prior = next(c for c in ended["Condition"] if c["id"] == day.prior["prior_diagnosis_id"])
    assert prior["code"]["coding"][0]["system"] == ICD10
    assert prior["code"]["coding"][0]["code"] == day.prior["icd10_code"] == "I10"
    (evidence,) = prior["evidence"][0]["detail"]
    (document,) = [d for d in ended["DocumentReference"] if f"DocumentReference/{d['id']}" == evidence["reference"]]
    assert [i["value"] for i in document["identifier"]] == [day.prior["document_sha256"]]
    assert {"reference": f"Condition/{prior['id']}"} in encounter["reasonReference"]
    # This visit's diagnosis is the one the doctor signed in the EMR, and is the Encounter's first.
    present = next(c for c in ended["Condition"] if c["id"] != prior["id"])
    assert present["code"]["coding"][0]["code"] == EMR["diagnosis_icd10"]
    assert encounter["diagnosis"][0]["condition"]["reference"] == f"Condition/{present['id']}"

    # The signed EMR (REC-01) with the doctor's signature (RX-05).
    (emr_key,) = [k for k in bundles if k[0] == "emr.signed"]
    emr = of(*emr_key)
    (note,) = emr["DocumentReference"]
    record = json.loads(base64.b64decode(note["content"][0]["attachment"]["data"]))
    assert (record["chief_complaint"], record["diagnosis_icd10"]) == (EMR["chief_complaint"], "I10")
    assert note["context"]["encounter"][0]["reference"] == f"Encounter/{visit}"
    assert note["subject"]["reference"] == f"Patient/{person['id']}"
    (emr_signature,) = emr["Provenance"][0]["signature"]
    assert decoded(emr_signature).count(".") == 2
    assert present["evidence"][0]["detail"][0]["reference"] == f"DocumentReference/{note['id']}"

    # The prescription: draft when signed, the same requests active when approved, as the document says.
    rx = day.prescription_id
    item = day.export["prescription"]["items"][0]
    drafts, approved = of("prescription.submitted", rx), of("prescription.approved", rx)
    assert [r["status"] for r in drafts["MedicationRequest"]] == ["draft"]
    assert [r["status"] for r in approved["MedicationRequest"]] == ["active"]
    (request,) = approved["MedicationRequest"]
    assert request["id"] == drafts["MedicationRequest"][0]["id"]
    assert request["medicationCodeableConcept"]["coding"][0]["code"] == item["drug_code"] == "C08CA01-tab-5mg"
    (dosage,) = request["dosageInstruction"]
    dose = dosage["doseAndRate"][0]["doseQuantity"]
    assert (Decimal(str(dose["value"])), dose["unit"]) == (Decimal(item["dose_per_time"]), item["dose_unit"])
    assert dosage["timing"]["repeat"]["frequency"] == item["times_per_day"] and dosage["route"]["text"] == "口服"
    assert request["dispenseRequest"]["expectedSupplyDuration"]["value"] == item["days_supply"]
    assert request["encounter"]["reference"] == f"Encounter/{visit}"
    assert request["reasonCode"][0]["coding"][0]["code"] == "I10"
    # Both signatures, exactly as the hospital issued them (the export bundle a pharmacy verifies offline).
    (provenance,) = approved["Provenance"]
    assert [decoded(s) for s in provenance["signature"]] == [day.export["prescription_jws"], day.export["review_jws"]]
    assert [t["reference"] for t in provenance["target"]] == [f"MedicationRequest/{request['id']}"]
    doctor_ref, pharmacist_ref = (s["who"]["reference"] for s in provenance["signature"])
    assert doctor_ref == request["requester"]["reference"] and doctor_ref != pharmacist_ref
    # When the doctor signed, only the doctor's signature.
    assert [decoded(s) for s in drafts["Provenance"][0]["signature"]] == [day.export["prescription_jws"]]
    # Sent behind the Practitioners and the visit's Encounter they reference.
    after = bundles[("prescription.approved", rx)].after
    assert After("visit", visit) in after and sum(a.subject_type == "staff" for a in after) == 2

    # The rejected prescription: cancelled, with the pharmacist's reason as a DetectedIssue (RX-06).
    rejected = of("prescription.rejected", day.rejected_prescription_id)
    assert {r["status"] for r in rejected["MedicationRequest"]} == {"cancelled"}
    (issue,) = [i for i in rejected["DetectedIssue"] if i["detail"] == day.rejection_reason]
    assert issue["author"]["reference"] == pharmacist_ref and issue["status"] == "final"
    assert {i["reference"] for i in issue["implicated"]} == {
        f"MedicationRequest/{r['id']}" for r in rejected["MedicationRequest"]}
    assert {"reference": f"DetectedIssue/{issue['id']}"} in rejected["MedicationRequest"][0]["detectedIssue"]
    assert len(rejected["Provenance"][0]["signature"]) == 2

    # The terminated visit refers the patient offline (REV-04).
    terminated = of("visit.terminated", day.terminated_visit_id)
    assert terminated["Encounter"][0]["hospitalization"]["dischargeDisposition"]["text"] == "first_visit_discovered"
    (referral,) = terminated["ServiceRequest"]
    assert referral["performer"][0]["display"] == day.referral["institution"]
    assert referral["note"][0]["text"] == day.referral["advice"]
    assert referral["reasonCode"][0]["coding"][0]["code"] == "first_visit_discovered"

    # Dispensing and delivery, traceable (RX-08): the approved request, the courier and its tracking number.
    shipped = of("dispensing.delivery_updated", day.dispensing_id)
    (dispense,) = shipped["MedicationDispense"]
    assert dispense["status"] == "in-progress" and dispense["whenPrepared"]
    assert dispense["authorizingPrescription"][0]["reference"] == f"MedicationRequest/{request['id']}"
    assert dispense["performer"][0]["actor"]["reference"] == pharmacist_ref
    assert any("SF1234567890" in n["text"] for n in dispense["note"])
    assert After("prescription", rx) in bundles[("dispensing.delivery_updated", day.dispensing_id)].after

    # Every face verification is an AuditEvent (FACE-04); clinicians are Practitioners by ID number.
    audits = [r for (t, _), m in bundles.items() if t == "face.verification" for r in m.records]
    assert audits and all(a["type"]["code"] == "110114" and a["outcome"] == "0" for a in audits)
    practitioners = [r for (t, _), m in bundles.items() if t == "staff.record" for r in by_type(m.records)["Practitioner"]]
    assert {p["id"] for p in practitioners} >= {doctor_ref.split("/")[1], pharmacist_ref.split("/")[1]}

    # The drug reaction reported on the visit (QA-01, SUP-04): the patient harmed, the suspected drug, the reporter.
    (reported,) = [m for (t, _), m in bundles.items() if t == "adverse_event.reported"]
    (adverse,) = by_type(reported.records)["AdverseEvent"]
    assert adverse["subject"]["reference"] == f"Patient/{person['id']}" and adverse["actuality"] == "actual"
    assert adverse["encounter"]["reference"] == f"Encounter/{visit}" and adverse["event"]["text"] == "服药后轻度头晕"
    assert adverse["severity"]["coding"][0]["code"] == "mild"
    assert adverse["suspectEntity"][0]["instance"]["display"] == "C08CA01-tab-5mg"
    assert adverse["recorder"]["reference"] == doctor_ref and After("visit", visit) in reported.after
