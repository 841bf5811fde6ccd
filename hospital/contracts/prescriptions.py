"""Events of the prescriptions area (RX): the signed prescription, the pharmacist's review, dispensing and
delivery, and the drug catalogue the connector files from the formulary.

`prescription.submitted` is the only event carrying the signed document; the review and dispensing events name
the prescription, and the connector reads the document from its `prescription.submitted`."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

import msgspec

from hospital.contracts.base import AwareDatetime, DecimalText, IsoDateText, IsoTimeText, Part, Payload

__all__ = [
    "EVENTS",
    "CatalogueDrug",
    "DeliveryStep",
    "DeliveryUpdated",
    "Dispensed",
    "DocumentDepartment",
    "DocumentDiagnosis",
    "DocumentDoctor",
    "DocumentFaceVerification",
    "DocumentItem",
    "DocumentPack",
    "DocumentPatient",
    "DocumentPriorDiagnosis",
    "DocumentStrength",
    "DocumentVisit",
    "Finding",
    "FormularyCatalogue",
    "FulfilmentView",
    "PrescriptionDocument",
    "PrescriptionReviewed",
    "PrescriptionSubmitted",
    "PrescriptionVoided",
    "RejectionReason",
    "review_event_types",
]

DispensingStatus = Literal["dispensed", "shipped", "delivered", "collected"]
CourierKind = Literal["own", "third_party"]


class FulfilmentView(msgspec.Struct, kw_only=True):
    """The patient's pick-up or delivery choice (RX-08): the address masked in lists, in full to the patient and to
    the pharmacist shipping it (SEC-01)."""

    method: str  # pickup | delivery
    address: dict[str, str] | None
    chosen_at: str | None  # ISO 8601; None: no choice made, so a pick-up
    version: int | msgspec.UnsetType = msgspec.UNSET


class RejectionReason(msgspec.Struct, kw_only=True):
    """A coded rejection reason (处方点评, data/rejection_reasons.csv) a pharmacist's rejection names (RX-06)."""

    code: str
    category: str
    item: str
    name_zh: str
    name_en: str
    source: str


class Finding(Part, kw_only=True):
    """A rule's finding kept at signing (a warning or a note the pharmacist must see, RX-03/RX-04)."""

    rule_id: str
    severity: str  # warn | info (block findings stop the signing)
    category: str
    message: str


# The signed document (hospital/prescriptions/documents.py), field for field as the doctor signed it.

class DocumentVisit(Part, kw_only=True):
    visit_id: str
    department_code: str
    mode: str


class DocumentDepartment(Part, kw_only=True):
    """`hospital-rx/2`: the 诊疗科目 by code and name."""

    code: str
    name: str


class DocumentPatient(Part, kw_only=True):
    patient_id: str
    name: str
    sex: str
    age: int
    medical_record_number: str | None = None  # 病历号 (hospital-rx/2)
    id_number_hash: str | None = None  # the hospital's keyed hash of the ID number, never the number (hospital-rx/2)


class DocumentPriorDiagnosis(Part, kw_only=True):
    icd10: str
    name: str
    institution: str
    diagnosed_on: IsoDateText


class DocumentDiagnosis(Part, kw_only=True):
    icd10: str
    name: str


class DocumentStrength(Part, kw_only=True):
    """Active substance per dispensing unit (hospital-rx/2): `value` a decimal string, `unit` mg, mcg, g, …"""

    value: DecimalText
    unit: str


class DocumentPack(Part, kw_only=True):
    """One pack (hospital-rx/2): `size` dispensing units of `unit` (tablet, capsule, mL, …)."""

    size: int
    unit: str


class DocumentItem(Part, kw_only=True):
    """One line: the drug as the formulary names it, the dose, how often, for how long, how many packs.

    `hospital-rx/2` gives strength and pack as structured values and names the drug by ATC code and 国药准字
    (null where the formulary does not name it); version 1 wrote "5 mg" and "28 tablet"."""

    drug_code: str
    name_zh: str
    generic_name: str
    atc_code: str | None = None
    approval_number: str | None = None
    strength: str | DocumentStrength
    dose_per_time: DecimalText
    dose_unit: str
    times_per_day: int
    interval_days: int = 1
    frequency: str = ""  # qd, bid, tid, qid, qn, qw, biw, q3d, prn (the code the rules checked)
    days_supply: int
    quantity_packs: int
    pack: str | DocumentPack
    unit_price_cny: DecimalText
    amount_cny: DecimalText
    usage: str = ""  # 用法 as the doctor writes it: "口服，每日早晨"
    extra_quantity_code: str | None = None  # why one pack more than dose × days (ExtraQuantityReason), RX-03

    def strength_text(self) -> str:
        """"5 mg", whichever version signed it."""
        s = self.strength
        return s if isinstance(s, str) else f"{s.value} {s.unit}"

    def pack_size_unit(self) -> tuple[str, str]:
        """("28", "tablet"), or ("", "") for a version-1 pack text that is not "size unit"."""
        if isinstance(self.pack, DocumentPack):
            return str(self.pack.size), self.pack.unit
        parts = self.pack.split()
        return (parts[0], parts[1]) if len(parts) >= 2 else ("", "")

    def pack_text(self) -> str:
        """"28 tablet", whichever version signed it."""
        return self.pack if isinstance(self.pack, str) else f"{self.pack.size} {self.pack.unit}"


class DocumentDoctor(Part, kw_only=True):
    staff_id: str
    name: str
    title: str
    practising_certificate_code: str | None = None  # 医师执业证书编码 (hospital-rx/2)
    certificate_serial: str


class DocumentFaceVerification(Part, kw_only=True):
    practice_session_id: str
    verified_at: IsoTimeText


class PrescriptionDocument(Part, kw_only=True):
    """What the doctor signed (RX-05): canonical JSON, so times, dates and money are text."""

    format: str | None = None  # "hospital-rx/2"; absent in version 1 (hospital/prescriptions/writing/documents.py)
    prescription_number: str
    revision: int
    supersedes: str | None
    issued_at: IsoTimeText
    valid_until: IsoDateText
    validity_days: int
    hospital: str
    visit: DocumentVisit
    department: DocumentDepartment | None = None  # hospital-rx/2
    patient: DocumentPatient
    prior_diagnosis: DocumentPriorDiagnosis
    diagnoses: list[DocumentDiagnosis]
    items: list[DocumentItem]
    total_cny: DecimalText
    long_prescription_reason: str | None = None
    long_prescription_code: str | None = None  # the coded reason (LongPrescriptionReason), RX-03
    guardian_present: bool
    doctor: DocumentDoctor
    face_verification: DocumentFaceVerification
    origin: str = ""  # RX-07: recorded by the server ("clinician"), never sent by a client
    draft_sha256: str = ""  # RX-07: the canonical hash of the draft the doctor's dry run checked


class PrescriptionSubmitted(Payload, kw_only=True):
    """`prescription.submitted` (subject: the prescription): the doctor signed it; it waits for review."""

    SEALED: ClassVar[tuple[str, ...]] = ("prescription", "doctor_jws", "findings")  # they name the patient, the diagnoses

    prescription_id: str
    prescription_number: str
    base_number: str
    revision: int
    supersedes: str | None = None  # the number this one replaces
    visit_id: str
    department_code: str
    doctor_staff_id: str
    doctor_certificate_serial: str
    issued_at: AwareDatetime
    valid_until: date  # the last day it may be dispensed
    status: str
    payload_sha256: str
    prescription: PrescriptionDocument
    doctor_jws: str
    findings: list[Finding] = []


class PrescriptionReviewed(Payload, kw_only=True):
    """`prescription.approved` / `prescription.rejected` (subject: the prescription): the pharmacist's decision
    (RX-06) and their JWS over it."""

    SEALED: ClassVar[tuple[str, ...]] = ("reasons", "review_jws", "findings")

    prescription_id: str
    prescription_number: str
    review_id: str
    decision: Literal["approve", "reject"]
    reasons: list[str] = []
    # a rejection's 处方点评 codes (prescriptions/data/rejection_reasons.csv): categories, not clinical text
    reason_codes: list[str] = []
    pharmacist_staff_id: str
    pharmacist_certificate_serial: str
    reviewed_at: AwareDatetime
    payload_sha256: str
    review_jws: str
    findings: list[Finding] = []  # those kept at signing, which the pharmacist saw
    status: str


class Dispensed(Payload, kw_only=True):
    """`dispensing.dispensed` (subject: the dispensing): the pharmacy prepared an approved prescription (RX-08)."""

    dispensing_id: str
    prescription_id: str
    prescription_number: str
    status: DispensingStatus
    dispensed_at: AwareDatetime
    pharmacist_user_id: str
    courier_kind: CourierKind
    courier_name: str


class DeliveryStep(Part, kw_only=True):
    status: DispensingStatus
    at: AwareDatetime
    by_role: str
    note: str = ""
    tracking_number: str | None = None


class DeliveryUpdated(Payload, kw_only=True):
    """`dispensing.delivery_updated` (subject: the dispensing): shipped, then delivered (or a pick-up collected at
    the pharmacy); every step so far."""

    dispensing_id: str
    prescription_id: str
    prescription_number: str
    status: DispensingStatus
    updated_at: AwareDatetime
    courier_kind: CourierKind
    courier_name: str
    tracking_number: str | None = None
    history: list[DeliveryStep] = []


class PrescriptionVoided(Payload, kw_only=True):
    """`prescription.voided` (subject: the prescription): its visit was terminated or cancelled before a pharmacist
    decided it, or its doctor withdrew it (rejected or undecided), so it never takes effect (RX-06, REV-04)."""

    prescription_id: str
    prescription_number: str
    visit_id: str
    visit_state: str  # terminated | cancelled; the visit's state when the doctor withdrew it
    voided_at: AwareDatetime
    withdrawn: bool = False  # the prescriber withdrew it (RX-06), not the visit's end
    status: Literal["voided"] = "voided"


class CatalogueDrug(Part, kw_only=True):
    code: str
    name_zh: str
    generic_name: str
    form: str
    strength: DecimalText
    strength_unit: str
    pack_size: int
    dispensing_unit: str
    in_use: bool  # controlled drugs are filed as not in use: never prescribed online (RX-02)
    manufacturer: str = ""
    drug_class: str = ""


class FormularyCatalogue(Payload, kw_only=True):
    """`formulary.catalogue` (subject: the catalogue; emitted by the connector when the formulary changed)."""

    sha256: str
    drugs: list[CatalogueDrug]


def review_event_types(review: PrescriptionReviewed) -> tuple[str, ...]:
    """The events one review writes, all carrying the same `PrescriptionReviewed`: the decision
    (`prescription.approved|rejected`: the platform's audit record), the prescription's verification state
    (`prescription.verified`), and, when the pharmacist approved despite warnings kept at signing, the risk
    warning `prescription.warnings_overridden` (SUP-04)."""
    events = (f"prescription.{review.status}", "prescription.verified")
    overridden = review.decision == "approve" and any(f.severity == "warn" for f in review.findings)
    return (*events, "prescription.warnings_overridden") if overridden else events


EVENTS: dict[str, type[Payload]] = {
    "prescription.submitted": PrescriptionSubmitted,
    "prescription.approved": PrescriptionReviewed,
    "prescription.rejected": PrescriptionReviewed,
    "prescription.verified": PrescriptionReviewed,
    "prescription.warnings_overridden": PrescriptionReviewed,
    "prescription.voided": PrescriptionVoided,
    "dispensing.dispensed": Dispensed,
    "dispensing.delivery_updated": DeliveryUpdated,
    "formulary.catalogue": FormularyCatalogue,
}
