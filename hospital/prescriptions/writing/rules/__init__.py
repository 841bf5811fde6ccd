"""The prescription rules and `check_prescription`, which runs every one of them on a draft.

Pure: a `PrescriptionDraft`, the loaded `Formulary` and `RxSettings` in, `Finding`s out. A finding's category
is one of the three kinds of 医院处方点评管理规范（试行）: 不规范处方 (non_standard), 用药不适宜处方 (unsuitable),
超常处方 (excessive). `block` refuses the draft; `warn` goes to the reviewing pharmacist (RX-06); `info` is
for the record. Every rule has the same signature, `RxRule`:

    eligibility   may this be prescribed online at all: RX-07 (a clinician writes), RX-01 (the prior diagnosis's
                  disease, indicated drugs), RX-02 (formulary drugs, none specially managed), REV-05 (a child's guardian)
    dosage        RX-03: number of drugs, dose, days supply and long prescriptions, quantity, duplicates, validity
    safety        RX-04: incompatible pairs, antimicrobial grades, allergies
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hospital.core.rule_registry import Finding, Severity
from hospital.prescriptions.formulary.values import Formulary
from hospital.prescriptions.writing.rules import dosage, eligibility, safety
from hospital.prescriptions.writing.values import PrescriptionDraft, RxSettings

__all__ = ["PRESCRIPTION_RULES", "RxRule", "blocking", "check_prescription"]

RxRule = Callable[[PrescriptionDraft, Formulary, RxSettings], list[Finding]]

PRESCRIPTION_RULES: tuple[RxRule, ...] = (
    *eligibility.ELIGIBILITY_RULES,
    *dosage.DOSAGE_RULES,
    *safety.SAFETY_RULES,
)


def check_prescription(
    draft: PrescriptionDraft, formulary: Formulary, *, settings: RxSettings | None = None
) -> list[Finding]:
    """Every finding of every prescription rule on `draft`, in rule order."""
    chosen = settings if settings is not None else RxSettings()
    return [finding for check in PRESCRIPTION_RULES for finding in check(draft, formulary, chosen)]


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that refuse the draft."""
    return [f for f in findings if f.severity is Severity.BLOCK]
