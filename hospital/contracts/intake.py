"""Wire schemas of intake (hospital/visits/intake/api.py): the consent text and its acceptances (PAT-02), the
patient's prior diagnoses with their eligibility (REV-01, REV-02). What the handlers answer, field for field, in
the order the pages have always read them; `/schema` describes them."""

from __future__ import annotations

import msgspec

__all__ = ["Acceptance", "Acceptances", "ConsentAccepted", "ConsentGuardian", "ConsentText", "DiagnosisChoice", "Eligibility",
           "PriorDiagnosisView", "ToldText"]


class ConsentText(msgspec.Struct, kw_only=True):
    version: str
    text_sha256: str
    zh: str
    en: str


class ConsentGuardian(msgspec.Struct, kw_only=True):
    """The guardian who accepted for a minor; the ID number masked."""

    name: str
    relationship: str
    id_number: str


class ConsentAccepted(msgspec.Struct, kw_only=True):
    version: str
    text_sha256: str
    accepted_at: str  # ISO 8601 with offset
    client_address: str
    accepted_by_guardian: ConsentGuardian | None


class Acceptance(msgspec.Struct, kw_only=True):
    version: str
    text_sha256: str
    accepted_at: str
    client_address: str


class Acceptances(msgspec.Struct, kw_only=True):
    current_version: str
    current_accepted: bool
    acceptances: list[Acceptance]


class ToldText(msgspec.Struct, kw_only=True):
    """A refusing rule's reason and what to do, in one language (hospital.core.problems.told)."""

    title: str
    detail: str


class Eligibility(msgspec.Struct, kw_only=True):
    """Whether the diagnosis could found a visit today: refused naming the rule, or until when and where."""

    eligible: bool
    rule_id: str | msgspec.UnsetType = msgspec.UNSET
    reason: str | msgspec.UnsetType = msgspec.UNSET
    valid_until: str | msgspec.UnsetType = msgspec.UNSET  # ISO date
    department_codes: list[str] | msgspec.UnsetType = msgspec.UNSET
    told: dict[str, ToldText] | msgspec.UnsetType = msgspec.UNSET  # refused: "zh" and "en", for the patient's page


class PriorDiagnosisView(msgspec.Struct, kw_only=True):
    prior_diagnosis_id: str
    icd10_code: str
    diagnosis_name: str
    document_type: str
    institution_name: str
    institution_kind: str
    institution_registration_number: str
    name_finding: str | None
    diagnosed_on: str  # ISO date
    document_content_type: str
    document_sha256: str
    filed_at: str
    withdrawn_at: str | None = None  # REV-01: the patient withdrew it while unused
    eligibility: Eligibility | msgspec.UnsetType = msgspec.UNSET  # in the list only


class DiagnosisChoice(msgspec.Struct, kw_only=True):
    """One diagnosis the hospital follows up online, as the patient chooses it: by name; the code is filled from it."""

    icd10_code: str
    name: str
    synonyms: list[str]
