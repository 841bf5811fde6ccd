"""The driver interface a hospital implements to be played the scenarios (`hospital conformance run --driver
MODULE:CLASS`). The reference's own is `hospital.conformance.drivers.http:HttpDriver`; `example.py` is a vendor's
starting point, every step a documented stub.

A scenario is one patient's journey. The runner calls `begin` once per scenario, then the steps in order, up to
the scenario's last one, with the inputs the scenario gives (in the domain's terms, defaults filled in:
hospital/conformance/journey.py). Each step returns an `Outcome`: accepted, or refused naming the requirement
ID the hospital gave as its reason (the reference puts it in the problem body's `rule_id`). A step the system
cannot perform raises `NotApplicable`, which makes the scenario not applicable rather than failed.

After the journey the runner asks `received` for the records the scenario says the supervision platform must
(or must not) hold, and compares their key fields (hospital/conformance/scenarios: `platform`). A driver that
cannot see the platform (no simulator, no platform test account) leaves `received` raising NotApplicable: those
scenarios are then not applicable, never passed unchecked.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

__all__ = ["OPTIONAL_STEPS", "STEPS", "Driver", "NotApplicable", "Outcome"]

# The journey, in order. A scenario stops after its `until` step or at the first refusal.
STEPS = ("record_licence", "open_department", "admit_staff", "record_incident", "read_disclosure", "register_patient",
         "file_diagnosis", "book", "intrude", "verify_face", "accept", "start", "write_prescription", "review",
         "dispense", "verify_export", "complete", "feedback")
# Steps played only when the scenario gives them or ends with them (acts beside the ordinary journey).
OPTIONAL_STEPS = frozenset({"record_licence", "open_department", "admit_staff", "record_incident", "read_disclosure",
                            "intrude", "complete", "feedback"})


class NotApplicable(Exception):
    """The system under test has no such act (say, it keeps no allergy list); the scenario is not applicable."""


@dataclass(frozen=True, slots=True)
class Outcome:
    accepted: bool
    rule: str | None = None  # the requirement ID a refusal names
    status: int | None = None  # the HTTP status, where there is one
    detail: str = ""

    @classmethod
    def ok(cls, detail: str = "", status: int | None = None) -> Outcome:
        return cls(True, None, status, detail)

    @classmethod
    def refused(cls, rule: str | None, detail: str = "", status: int | None = None) -> Outcome:
        return cls(False, rule, status, detail)


class Driver(ABC):
    """One hospital under test. `target` is what `--target` says (a URL for HTTP drivers)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def close(self) -> None:  # noqa: B027 (optional)
        """Called once after the last scenario."""

    @abstractmethod
    def begin(self, scenario: str) -> None:
        """A new scenario starts: forget the previous patient, visit and prescription."""

    def scenario_ids(self) -> dict[str, str]:
        """This scenario's ids so far (visit, prescription, patient: the ID number, complaint, adverse_event,
        incident), for "$visit" in a scenario's expected fields."""
        return {}

    def received(self, method: str, of: str) -> list[dict[str, Any]]:
        """Every version the supervision platform holds of the `method` records of this scenario's `of` (visit,
        prescription, patient): a record belongs to it when one of its values is that visit's or prescription's
        id, or the patient's ID number. Oldest first. The runner polls it while the hospital's connector may
        still be delivering."""
        raise NotApplicable("this driver cannot see what the supervision platform received")

    def record_licence(self, licence: dict[str, Any]) -> Outcome:
        """An administrator records the hospital's licence again with one flaw (INS-01), which must be refused:
        the licence in force stays. Keys: flaw ("malformed_number": a 登记号 with a lower-case letter and a space;
        "not_an_internet_hospital": a second name that is not a 互联网医院; "ends_before_it_starts")."""
        raise NotApplicable("record_licence is not implemented in this driver")

    def open_department(self, department: dict[str, Any]) -> Outcome:
        """An administrator opens (approves) a department the hospital does not yet serve, with one flaw in the
        evidence PD 8(二) asks (INS-02: one 正高 and one 副高 physician of the speciality, each with a 15-digit
        执业证书编码), which must be refused: the department stays closed. Keys: flaw ("no_senior_physicians": none
        named; "no_associate_senior": a 正高 without the 副高; "practice_number_malformed": a 副高 whose 执业证书编码
        is not 15 digits)."""
        raise NotApplicable("open_department is not implemented in this driver")

    def admit_staff(self, staff: dict[str, Any]) -> Outcome:
        """An administrator admits a clinician (STAFF-01/02/03, FACE-01). Keys: kind (doctor | pharmacist | nurse),
        clinical_years, credentials ("complete"; "no_practice": without the practice certificate; "no_qualification":
        without the qualification; "expired": the practice certificate expired), biometric_consent (bool: the admitted
        clinician gives their own separate consent in their own session before a face verification), photo
        ("enrolled_doctor": the face of a clinician the hospital has enrolled already; "new": a face it has not)."""
        raise NotApplicable("admit_staff is not implemented in this driver")

    def record_incident(self, incident: dict[str, Any]) -> Outcome:
        """The security officer records a security incident a person found (SEC-02); accepted, the platform
        receives it as a risk warning, and `scenario_ids()["incident"]` is its id. Keys: kind (bulk_access,
        data_leak, credential_stuffing, face_lockout, audit_tampering, other), severity (low | medium | high |
        critical), summary (what happened; "" says nothing), leak (none | suspected | confirmed),
        personal_information (bool), detected_minutes_ago (negative: detected in the future), affected_subjects."""
        raise NotApplicable("record_incident is not implemented in this driver")

    def read_disclosure(self, disclosure: dict[str, Any]) -> Outcome:
        """The public disclosure page (INS-03), read without logging in. Keys: shows (the items it must show:
        licence, departments, clinicians, service_hours, service_modes, reply_time_limits, prices, complaints,
        dispute_procedure, licence_in_force). Refused naming INS-03 when an item is missing."""
        raise NotApplicable("read_disclosure is not implemented in this driver")

    def intrude(self, intrusion: dict[str, Any]) -> Outcome:
        """Someone reads the booked visit (SEC-01). Keys: who ("other_patient": another registered patient;
        "own_patient": the visit's own patient)."""
        raise NotApplicable("intrude is not implemented in this driver")

    def complete(self, completion: dict[str, Any]) -> Outcome:
        """The doctor writes the visit's medical record, signs it off and completes the visit (REC-01, RX-05).
        Keys: record ("full"; "no_chief_complaint": a record lacking its chief complaint)."""
        raise NotApplicable("complete is not implemented in this driver")

    def feedback(self, feedback: dict[str, Any]) -> Outcome:
        """After the visit (QA-01, SUP-04). Keys: rating (None or a score), complaint (None or {category,
        description}), adverse_event (None or {kind, severity, occurred_days_ago, description, drug_code})."""
        raise NotApplicable("feedback is not implemented in this driver")

    @abstractmethod
    def register_patient(self, patient: dict[str, Any]) -> Outcome:
        """Real-name registration (PAT-01) and, when `consent` is true, the informed consent (PAT-02), which
        for a minor the guardian gives. Keys: real_name, age_years, id_number (None: a valid one for the age),
        phone (None: a fresh mobile), consent (bool), guardian (None or {name, age_years, relationship}: who
        accepts the consent for a minor)."""

    @abstractmethod
    def file_diagnosis(self, diagnosis: dict[str, Any]) -> Outcome:
        """The prior diagnosis from a physical institution, with its document (REV-01/02/03).
        Keys: file (bool: false files nothing), icd10, name, institution, institution_kind ("physical" or
        "internet_hospital"), registration_number (the institution's 医疗机构登记号; None: a well-formed one),
        document_type, diagnosed_days_ago (negative: in the future; "before_birth": before the patient was born),
        document ("pdf" or "none")."""

    @abstractmethod
    def book(self, booking: dict[str, Any]) -> Outcome:
        """Book a future place with the doctor (REV-06). Keys: department (诊疗科目 code), mode (video | audio |
        text), prior ("filed" or "none"), guardian (None or {name, age_years, relationship, present_confirmed}),
        allergies (the patient's allergy statement for the visit: "none_known", a list of allergy codes such as
        ["penicillins"], or None: no statement), twice (bool: book the same slot again while the first stands)."""

    @abstractmethod
    def verify_face(self, doctor: dict[str, Any]) -> Outcome:
        """The doctor's face verification before taking the patient (FACE-02). Keys: face ("own": a live capture
        of the enrolled doctor; "other": someone else's face; "none": the doctor skips it)."""

    @abstractmethod
    def accept(self, accept: dict[str, Any]) -> Outcome:
        """接诊: the doctor accepts the visit confirming it is a revisit (REV-04). Keys: document_opened (bool: the
        doctor opened the prior-diagnosis document first), revisit_confirmed, name_resolution (None, or how the
        doctor resolved a diagnosis name that disagrees with its code)."""

    @abstractmethod
    def start(self, start: dict[str, Any]) -> Outcome:
        """The consultation begins (REV-05). Keys: guardian_present_confirmed (bool: the doctor confirms the
        young child's guardian is present)."""

    @abstractmethod
    def write_prescription(self, prescription: dict[str, Any]) -> Outcome:
        """The doctor writes, checks and signs (RX-01…RX-05, RX-07). Keys: diagnoses [[icd10, name]], items
        [{drug_code, dose_per_time, times_per_day, days_supply, quantity_packs, usage (用法, the route first:
        "口服，每日早晨"; "" is an item without one, which RX-03 refuses: the platform would refuse it)}], validity_days,
        long_prescription_reason, long_prescription_code; signature_confirmed (false: the doctor signs without
        the explicit act, here without checking the draft first), origin ("clinician"; "ai" or "auto": a draft
        made by a machine is submitted for signature without the doctor having checked it)."""

    @abstractmethod
    def review(self, review: dict[str, Any]) -> Outcome:
        """The review (RX-06). Keys: skip (bool: no review at all), by ("pharmacist", "prescriber"), face
        ("own" or "none": the pharmacist's verification), decision (approve | reject), reasons (notes),
        reason_codes (a rejection's 处方点评 codes), acknowledge ("each": approving answers each of the
        prescription's warnings with acknowledgement_reason, a coded reason; "none": answers none)."""

    @abstractmethod
    def dispense(self, dispense: dict[str, Any]) -> Outcome:
        """Dispensing and delivery (RX-06, RX-08). Keys: courier_kind (own | third_party), courier_name, twice
        (bool: dispense a second time)."""

    @abstractmethod
    def verify_export(self, export: dict[str, Any]) -> Outcome:
        """The signed prescription checked offline (RX-05). Keys: tamper ("none", "dose": a dose edited after
        signing, "signature": one byte of the doctor's signature flipped)."""
