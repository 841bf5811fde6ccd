"""A vendor's driver, to copy and fill in: every step of the journey as a stub that says what to do.

Run it with `hospital conformance run --target https://your-hospital.example --driver
your_package.conformance:YourDriver`. Each method receives the step's inputs in the domain's terms (the keys
are documented on `hospital.conformance.drivers.Driver`) and returns `Outcome.ok()` when your system accepted
the act, or `Outcome.refused(requirement_id, detail, status)` when it refused, naming the requirement your
system gave as its reason. Raise `NotApplicable` for an act your system does not have: those scenarios are
reported as not applicable, not failed. Keep what later steps need (the patient's session, the visit, the
prescription) on `self` between calls; `begin` starts each scenario afresh.
"""

from __future__ import annotations

from typing import Any

from hospital.conformance.drivers import Driver, NotApplicable, Outcome

__all__ = ["ExampleDriver"]


class ExampleDriver(Driver):
    """Every step unimplemented: running it reports every scenario as not applicable."""

    def begin(self, scenario: str) -> None:
        self.patient: Any = None
        self.visit: Any = None
        self.prescription: Any = None

    def scenario_ids(self) -> dict[str, str]:
        # The ids a scenario's expected platform fields may name ("$visit", "$prescription", "$patient": the
        # patient's ID number, "$complaint", "$adverse_event"), as your system gave them.
        return {}

    def received(self, method: str, of: str) -> list[dict[str, Any]]:
        # What the supervision platform holds: e.g. GET your platform test account's records (or the reference's
        # simulator, `hospital supervision-sim`, at /sim/records/{method}) and keep those naming this scenario's
        # scenario_ids()[of]; each entry {"record": {...}}, oldest first. Until then the scenarios that check the
        # platform are not applicable.
        raise NotApplicable("received is not implemented in this driver yet")

    def record_licence(self, licence: dict[str, Any]) -> Outcome:
        # As an administrator, record your licence again with the flaw licence["flaw"] names (a malformed 登记号, a
        # second name that is not a 互联网医院, a validity ending before it starts): it must be refused (INS-01).
        raise NotApplicable("record_licence is not implemented in this driver yet")

    def open_department(self, department: dict[str, Any]) -> Outcome:
        # As an administrator, open a department your licence does not yet carry, leaving out part of the PD 8(二)
        # evidence department["flaw"] names (no senior physicians, no 副高, a malformed 执业证书编码): it must be
        # refused and the department stay closed (INS-02).
        raise NotApplicable("open_department is not implemented in this driver yet")

    def record_incident(self, incident: dict[str, Any]) -> Outcome:
        # As the security officer, record a security incident with incident["kind"], ["severity"], ["summary"],
        # ["leak"], ["detected_minutes_ago"]; keep its id for scenario_ids()["incident"]. One saying nothing or
        # detected in the future must be refused; an accepted one reaches the platform as a risk warning (SEC-02).
        raise NotApplicable("record_incident is not implemented in this driver yet")

    def admit_staff(self, staff: dict[str, Any]) -> Outcome:
        # As an administrator, admit a staff["kind"] with staff["clinical_years"], the credentials staff["credentials"]
        # says ("complete", or one left out or expired) and a photo of a face your system has enrolled already
        # (staff["photo"] == "enrolled_doctor") or a new one ("new"); once admitted, the clinician gives their own
        # biometric consent if staff["biometric_consent"] and verifies their face: STAFF-01/02/03, FACE-01 refusals.
        raise NotApplicable("admit_staff is not implemented in this driver yet")

    def read_disclosure(self, disclosure: dict[str, Any]) -> Outcome:
        # Read your public disclosure page without logging in; Outcome.refused("INS-03", ...) when one of
        # disclosure["shows"] is missing.
        raise NotApplicable("read_disclosure is not implemented in this driver yet")

    def intrude(self, intrusion: dict[str, Any]) -> Outcome:
        # intrusion["who"] == "other_patient": another patient reads this visit (must be refused, SEC-01);
        # "own_patient": the visit's own patient reads it.
        raise NotApplicable("intrude is not implemented in this driver yet")

    def complete(self, completion: dict[str, Any]) -> Outcome:
        # The doctor writes the medical record (without its chief complaint when completion["record"] ==
        # "no_chief_complaint", which must be refused, REC-01), signs it off and completes the visit.
        raise NotApplicable("complete is not implemented in this driver yet")

    def feedback(self, feedback: dict[str, Any]) -> Outcome:
        # The patient rates the visit (feedback["rating"]), files feedback["complaint"] and reports
        # feedback["adverse_event"], each when not None (QA-01).
        raise NotApplicable("feedback is not implemented in this driver yet")

    def register_patient(self, patient: dict[str, Any]) -> Outcome:
        # e.g. POST {target}/patients with patient["real_name"], an ID number for patient["age_years"] (or
        # patient["id_number"] when given), patient["phone"]; then record the informed consent when
        # patient["consent"] (given by patient["guardian"] for a minor). A refusal naming PAT-01 or PAT-02:
        # return Outcome.refused("PAT-01", detail).
        raise NotApplicable("register_patient is not implemented in this driver yet")

    def file_diagnosis(self, diagnosis: dict[str, Any]) -> Outcome:
        # Upload the prior diagnosis (diagnosis["icd10"], ["institution"] with its ["registration_number"] and
        # ["institution_kind"], ["document_type"], dated
        # diagnosis["diagnosed_days_ago"] days ago) with a document; skip when not diagnosis["file"].
        raise NotApplicable("file_diagnosis is not implemented in this driver yet")

    def book(self, booking: dict[str, Any]) -> Outcome:
        # Book a future place in booking["department"] for booking["mode"], with the prior diagnosis (unless
        # booking["prior"] == "none") and booking["guardian"] for a young child.
        raise NotApplicable("book is not implemented in this driver yet")

    def verify_face(self, doctor: dict[str, Any]) -> Outcome:
        # doctor["face"]: "own" (verify the doctor with a live capture), "other" (someone else's face, which
        # must be refused), "none" (the doctor does not verify; later acts must be refused, FACE-02).
        raise NotApplicable("verify_face is not implemented in this driver yet")

    def accept(self, accept: dict[str, Any]) -> Outcome:
        # The doctor opens the prior-diagnosis document (when accept["document_opened"]) and accepts the visit;
        # accept["revisit_confirmed"] is the revisit confirmation (REV-04).
        raise NotApplicable("accept is not implemented in this driver yet")

    def start(self, start: dict[str, Any]) -> Outcome:
        # The doctor begins the consultation; for a child under 6, start["guardian_present_confirmed"] is the
        # doctor's confirmation that the guardian is present (REV-05).
        raise NotApplicable("start is not implemented in this driver yet")

    def write_prescription(self, prescription: dict[str, Any]) -> Outcome:
        # Write and sign prescription["items"] for prescription["diagnoses"]; signature_confirmed False or
        # origin "ai" must be refused (RX-07), and so must an item whose usage (用法) is empty (RX-03).
        raise NotApplicable("write_prescription is not implemented in this driver yet")

    def review(self, review: dict[str, Any]) -> Outcome:
        # The pharmacist (face verified unless review["face"] == "none") approves or rejects; review["by"] ==
        # "prescriber" has the prescribing doctor try it; review["skip"] reviews nothing.
        raise NotApplicable("review is not implemented in this driver yet")

    def dispense(self, dispense: dict[str, Any]) -> Outcome:
        # Dispense with dispense["courier_kind"] / ["courier_name"]; twice when dispense["twice"].
        raise NotApplicable("dispense is not implemented in this driver yet")

    def verify_export(self, export: dict[str, Any]) -> Outcome:
        # Export the signed prescription, apply export["tamper"] ("dose", "signature"), and check it offline;
        # a document that does not verify is Outcome.refused("RX-05", ...).
        raise NotApplicable("verify_export is not implemented in this driver yet")
