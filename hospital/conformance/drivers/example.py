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
        # origin "ai" must be refused (RX-07).
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
