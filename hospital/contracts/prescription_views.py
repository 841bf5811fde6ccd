"""Wire schemas of the prescriptions area's HTTP answers (hospital/prescriptions/*/api.py), field for field as the
pages read them (issue 17, "Typed contracts"): a prescription as its patient, doctor or pharmacist may see it, the
dry run's findings, the countersignature queue, a dispensing, the export bundle and the patient's safety context.

Fields only a clinician sees (the findings, the signatures, the safety context the rules read) are UNSET, so left
out, in a patient's view (hospital/prescriptions/queries.py). The signed prescription document and the items of a
review stay open objects: their keys are the signed document's (hospital/prescriptions/writing/documents.py).
Every view refuses unknown fields, so a key the service adds and the contract does not name fails the tests
instead of vanishing from the answer."""

from __future__ import annotations

from typing import Any

import msgspec

from hospital.contracts.prescriptions import FulfilmentView

__all__ = ["ClaimView", "Countersignature", "CountersignatureAwaited", "DispensingView", "DraftCheck",
           "ExportBundle", "ExportBundleSubmitted", "FindingView", "PrescriptionReviewView", "PrescriptionView",
           "SafetyContextView"]

UNSET = msgspec.UNSET


class View(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An HTTP answer's object: unknown fields refused (see the module docstring)."""


class FindingView(View, kw_only=True):
    """A rule's finding as the doctor and the pharmacist read it; `title` is the rule's reason in both languages
    ({"zh": …, "en": …}) where the rule is registered (issue 14)."""

    rule_id: str
    severity: str  # block | warn | info
    category: str  # 处方点评: non_standard | unsuitable | excessive, or ""
    message: str
    title: dict[str, str] | msgspec.UnsetType = UNSET
    subject: str | msgspec.UnsetType = UNSET  # the drug (or field) the finding is about, so two read apart (issue 14)
    detail_zh: str | msgspec.UnsetType = UNSET  # the finding's own sentence in Chinese, where it has one


class DraftCheck(View, kw_only=True):
    """The dry run of a draft (RX-07): signing must name `draft_sha256` within `valid_until`."""

    draft_sha256: str
    signable: bool
    check_id: str | None  # None when not signable: nothing to sign against
    valid_until: str | None  # ISO 8601
    findings: list[FindingView]
    rule_ids: list[str]  # the rules that refuse it


class PrescriptionReviewView(View, kw_only=True):
    """The pharmacist's decision; its reasons and signature for the clinicians only."""

    decision: str  # approved | rejected
    reviewed_at: str
    reasons: list[str] | msgspec.UnsetType = UNSET
    review_jws: str | msgspec.UnsetType = UNSET
    acknowledgements: list[dict[str, Any]] | msgspec.UnsetType = UNSET  # {finding, reason, …} per warning
    reason_codes: list[str] | msgspec.UnsetType = UNSET
    double_checks: list[dict[str, Any]] | msgspec.UnsetType = UNSET  # {drug_code, checks} per high-alert drug


class DispensingView(View, kw_only=True):
    """A dispensing and its delivery (RX-08); `history` lists each step ({status, at, by_role, note})."""

    dispensing_id: str
    prescription_id: str
    status: str  # dispensed | shipped | delivered, or a pick-up collected
    courier_kind: str  # own | third_party
    courier_name: str | None
    tracking_number: str | None
    dispensed_at: str
    shipped_at: str | None
    delivered_at: str | None
    collected_at: str | None
    history: list[dict[str, Any]]
    version: int


class ClaimView(View, kw_only=True):
    """A pending prescription's claim, as the pharmacist sees it (RX-06)."""

    claimed_by_me: bool
    claimed_until: str | None


class SafetyContextView(View, kw_only=True):
    """The patient's safety context (RX-04): `recorded` false (and only `allergy_status` null) before any
    statement; else the version with who recorded it and its content."""

    recorded: bool
    allergy_status: str | None
    version: int | msgspec.UnsetType = UNSET
    visit_id: str | msgspec.UnsetType | None = UNSET
    recorded_by_role: str | msgspec.UnsetType = UNSET
    confirmed_by_doctor: bool | msgspec.UnsetType = UNSET
    recorded_at: str | msgspec.UnsetType = UNSET
    allergies: list[str] | msgspec.UnsetType = UNSET
    pregnancy: str | msgspec.UnsetType = UNSET
    lactating: bool | msgspec.UnsetType = UNSET
    renal: str | msgspec.UnsetType = UNSET
    egfr: int | msgspec.UnsetType | None = UNSET
    hepatic: str | msgspec.UnsetType = UNSET
    weight_kg: str | msgspec.UnsetType | None = UNSET  # decimal text
    height_cm: str | msgspec.UnsetType | None = UNSET
    note: str | msgspec.UnsetType = UNSET


class PrescriptionView(View, kw_only=True):
    """One prescription as the caller may see it (hospital/prescriptions/queries.py, SEC-01)."""

    prescription_id: str
    prescription_number: str
    revision: int
    supersedes_id: str | None
    superseded_by_id: str | None
    visit_id: str
    status: str
    issued_at: str
    valid_until: str
    total_cny: str  # decimal text
    version: int
    document: dict[str, Any]  # the signed prescription document
    review: PrescriptionReviewView | None
    dispensing: DispensingView | None
    fulfilment: FulfilmentView
    # the clinicians' (doctor, pharmacist)
    payload_sha256: str | msgspec.UnsetType = UNSET
    findings: list[FindingView] | msgspec.UnsetType = UNSET
    doctor_jws: str | msgspec.UnsetType = UNSET
    safety_context: SafetyContextView | msgspec.UnsetType = UNSET  # the version the rules read at signing
    origin: str | msgspec.UnsetType = UNSET
    claim: ClaimView | msgspec.UnsetType = UNSET  # a pharmacist's view of a pending one


class CountersignatureAwaited(View, kw_only=True):
    """A child's prescription waiting for a paediatric doctor's countersignature, as signed (REV-05, PD 17)."""

    prescription_id: str
    prescription_number: str
    department_code: str
    issued_at: str
    status: str
    prescription: dict[str, Any]  # the signed prescription document
    findings: list[FindingView]


class Countersignature(View, kw_only=True):
    prescription_id: str
    prescription_number: str
    status: str
    countersignature_id: str
    countersigned_at: str


class ExportBundle(View, kw_only=True):
    """The signed export bundle (hospital/signing/export.py), verified offline by `hospital rx verify`."""

    format: str
    exported_at: str
    prescription: dict[str, Any]
    prescription_jws: str
    review_jws: str
    ca_certificate_pem: str
    crl_pem: str
    timestamps: dict[str, str] | msgspec.UnsetType = UNSET  # RFC 3161 tokens, base64, per signature


class ExportBundleSubmitted(msgspec.Struct, kw_only=True):
    """An export bundle sent to `POST /api/rx/verify` (RX-05/06): `ExportBundle`'s fields, as the verifier reads
    them. Both hospital-rx-export/1 and /2 travel in it (they differ in `format` and inside the signed
    `prescription`, an open object), so every field is optional and unknown ones are ignored: a bundle that is
    not one is answered with the verifier's report naming what is wrong (bundle_format, bundle_incomplete), not a
    400."""

    format: str | msgspec.UnsetType = UNSET  # hospital-rx-export/1 or hospital-rx-export/2
    exported_at: str | msgspec.UnsetType = UNSET
    prescription: dict[str, Any] | msgspec.UnsetType = UNSET
    prescription_jws: str | msgspec.UnsetType = UNSET
    review_jws: str | msgspec.UnsetType = UNSET
    ca_certificate_pem: str | msgspec.UnsetType = UNSET
    crl_pem: str | msgspec.UnsetType = UNSET  # replaced by the hospital's current revocation list
    timestamps: dict[str, str] | msgspec.UnsetType = UNSET
