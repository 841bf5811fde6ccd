"""Drug-safety rules (RX-04): an allergy statement first, incompatible pairs (配伍禁忌), antimicrobial grades,
recorded allergies, contraindications and cautions in pregnancy, lactation, renal and hepatic impairment. Pure."""

from __future__ import annotations

import re
from itertools import combinations

from hospital.core.rule_registry import Finding, Severity, rule
from hospital.prescriptions.formulary.values import (
    AllergenGroup,
    AntimicrobialGrade,
    Drug,
    Formulary,
    Interaction,
    InteractionSeverity,
    StateCaution,
)
from hospital.prescriptions.writing.values import PrescriptionDraft, ReviewCategory, RxSettings

__all__ = [
    "SAFETY_RULES",
    "an_allergy_statement_is_recorded",
    "antimicrobial_grade_allowed_online",
    "high_alert_drugs_double_checked",
    "no_drug_contraindicated_in_the_patients_state",
    "no_drug_the_patient_is_allergic_to",
    "no_incompatible_pair",
]

BLOCK, WARN, INFO = Severity.BLOCK, Severity.WARN, Severity.INFO
NON_STANDARD, UNSUITABLE = ReviewCategory.NON_STANDARD, ReviewCategory.UNSUITABLE
SEVERITY = {
    InteractionSeverity.CONTRAINDICATED: BLOCK,
    InteractionSeverity.MAJOR: WARN,
    InteractionSeverity.MODERATE: INFO,
}
_ATC_LIKE = re.compile(r"^[A-Z][0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?$")


def _finding(severity: Severity, category: ReviewCategory, message: str) -> Finding:
    return Finding("RX-04", severity, message, category)


def _pair_finding(x: Drug, y: Drug, interaction: Interaction, *, current: bool) -> Finding:
    where = " (on a prescription still in effect)" if current else ""
    message = (
        f"{x.label} with {y.label}{where}: {interaction.severity.value}; {interaction.mechanism} [{interaction.source}]"
    )
    return _finding(SEVERITY[interaction.severity], UNSUITABLE, message)


@rule(
    "RX-04",
    "No incompatible pair within the prescription or with a prescription still in effect",
    source="SP 规范用药 配伍禁忌; 处方点评规范 用药不适宜: 有配伍禁忌或者不良相互作用",
)
def no_incompatible_pair(draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings) -> list[Finding]:
    new = [drug for _, drug in formulary.lines(draft.items)]
    findings = [
        _pair_finding(x, y, interaction, current=False)
        for x, y in combinations(new, 2)
        for interaction in formulary.interactions_between(x, y)
    ]
    for code in draft.current_effective_items:
        existing = formulary.get(code)
        if existing is None:
            message = (
                f"Drug {code!r} of a prescription still in effect is not in the formulary: interactions unchecked."
            )
            findings.append(_finding(WARN, UNSUITABLE, message))
            continue
        for x in new:
            findings += [
                _pair_finding(x, existing, i, current=True) for i in formulary.interactions_between(x, existing)
            ]
    return findings


GRADE_RANK = {"none": 0, "unrestricted": 1, "restricted": 2, "special": 3}


@rule(
    "RX-04",
    "Special-use antimicrobials never online; others only by a doctor of that grade (抗菌药物处方权); restricted "
    "ones flagged",
    source="抗菌药物临床应用管理办法（卫生部令第84号） 第二十四条 分级管理: 特殊使用级不得在门诊使用; SP 规范用药",
)
def antimicrobial_grade_allowed_online(
    draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings
) -> list[Finding]:
    findings = []
    granted = draft.prescriber_antimicrobial_grade or "none"
    for _, drug in formulary.lines(draft.items):
        if drug.is_antimicrobial and GRADE_RANK.get(granted, 0) < GRADE_RANK[drug.antimicrobial_grade.value]:
            message = (f"{drug.label} is a {drug.antimicrobial_grade.value} antimicrobial; the prescriber's "
                       f"antimicrobial grade (抗菌药物处方权, by title at admission) is {granted}.")
            findings.append(_finding(BLOCK, NON_STANDARD, message))
        if drug.antimicrobial_grade is AntimicrobialGrade.SPECIAL:
            message = f"{drug.label} is a special-use (特殊使用级) antimicrobial: never prescribed outside hospital."
            findings.append(_finding(BLOCK, NON_STANDARD, message))
        elif drug.antimicrobial_grade is AntimicrobialGrade.RESTRICTED:
            message = (
                f"{drug.label} is a restricted (限制使用级) antimicrobial: the prescriber needs that grade's "
                "privilege; the pharmacist confirms."
            )
            findings.append(_finding(WARN, NON_STANDARD, message))
    return findings


def _named(allergy: str, drug: Drug) -> bool:
    """Whether `allergy` names the drug's substance, in English (any part of a combination) or in Chinese."""
    name = drug.generic_name.casefold()
    parts = {name, *(p.strip() for p in re.split(r"\s+and\s+|/", name))}
    return allergy.casefold() in parts or (len(allergy) >= 2 and allergy in drug.name_zh)


def _allergy_severity(allergy: str, drug: Drug, group: AllergenGroup | None) -> Severity | None:
    """BLOCK when the recorded allergy covers the drug, WARN for a cross-reactive class, else None."""
    if _ATC_LIKE.match(allergy.upper()):
        return BLOCK if drug.atc_code.startswith(allergy.upper()) else None
    if group is None:
        return BLOCK if _named(allergy, drug) else None
    if drug.atc_code.startswith(group.atc_prefixes):
        return BLOCK
    if group.cross_reactive_prefixes and drug.atc_code.startswith(group.cross_reactive_prefixes):
        return WARN
    return None


@rule(
    "RX-04",
    "No drug the patient is recorded as allergic to",
    source="SP 规范用药; 处方管理办法 第三十五条 (药师审核用药适宜性)",
)
def no_drug_the_patient_is_allergic_to(
    draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings
) -> list[Finding]:
    findings = []
    lines = formulary.lines(draft.items)
    for allergy in filter(None, (a.strip() for a in draft.patient_allergies)):
        group = formulary.allergen_group(allergy)
        for _, drug in lines:
            severity = _allergy_severity(allergy, drug, group)
            if severity is BLOCK:
                message = f"The patient is recorded as allergic to {allergy!r}: {drug.label} must not be given."
                findings.append(_finding(BLOCK, UNSUITABLE, message))
            elif severity is WARN:
                message = (
                    f"The patient is allergic to {allergy!r}: {drug.label} may cross-react; the pharmacist confirms."
                )
                findings.append(_finding(WARN, UNSUITABLE, message))
        known = group is not None or _ATC_LIKE.match(allergy.upper()) or any(_named(allergy, d) for d in formulary)
        if not known:
            message = f"Recorded allergy {allergy!r} matches no substance or class in the formulary; check it by hand."
            findings.append(_finding(INFO, UNSUITABLE, message))
    return findings


@rule(
    "RX-04",
    "Nothing is prescribed while the visit has no allergy statement (coded allergies or no known allergies)",
    source="处方管理办法 第三十五条 (药师审核: 过敏史); SP 规范用药",
)
def an_allergy_statement_is_recorded(
    draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings
) -> list[Finding]:
    if draft.allergy_statement:
        return []
    message = ("The patient has no allergy statement: record their allergies (coded) or \"no known allergies\" "
               "before prescribing (PUT /api/me/safety-context, or the doctor at the visit's safety context).")
    return [_finding(BLOCK, NON_STANDARD, message)]


def _state_findings(drug: Drug, state: str, caution: StateCaution, *, present: bool, unknown: bool = False
                    ) -> list[Finding]:
    if caution is StateCaution.NONE or not (present or unknown):
        return []
    if caution is StateCaution.CONTRAINDICATED and present:
        return [_finding(BLOCK, UNSUITABLE, f"{drug.label} is contraindicated in {state} ({drug.source}).")]
    if caution is StateCaution.CONTRAINDICATED:
        return [_finding(WARN, UNSUITABLE, f"{drug.label} is contraindicated in {state}, and whether the patient is "
                                           f"pregnant is unknown: the pharmacist confirms ({drug.source}).")]
    return [_finding(WARN, UNSUITABLE, f"{drug.label}: use with caution in {state}; the pharmacist confirms "
                                       f"({drug.source}).")]


@rule(
    "RX-04",
    "No drug contraindicated in the patient's pregnancy, lactation, renal or hepatic impairment; cautions warned",
    source="说明书 禁忌/孕妇及哺乳期妇女用药/肝肾功能不全; 处方点评规范 用药不适宜: 有用药禁忌",
)
def no_drug_contraindicated_in_the_patients_state(
    draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings
) -> list[Finding]:
    findings = []
    for _, drug in formulary.lines(draft.items):
        findings += _state_findings(drug, "pregnancy", drug.pregnancy, present=draft.pregnant,
                                    unknown=draft.pregnancy_unknown)
        findings += _state_findings(drug, "lactation", drug.lactation, present=draft.lactating)
        for organ, rules, level in (("renal", drug.renal, draft.renal), ("hepatic", drug.hepatic, draft.hepatic)):
            action = Drug.impairment_action(rules, level)
            if action == "block":
                findings.append(_finding(BLOCK, UNSUITABLE, f"{drug.label} is contraindicated in {level} {organ} "
                                                            f"impairment ({drug.source})."))
            elif action == "warn":
                findings.append(_finding(WARN, UNSUITABLE, f"{drug.label}: {level} {organ} impairment needs a dose "
                                                           f"check; the pharmacist confirms ({drug.source})."))
    return findings


@rule("RX-04", "A high-alert drug (高警示药品) is flagged for the pharmacist's double check",
      source="中国药学会 高警示药品推荐目录(2019版); 处方管理办法 第三十五条")
def high_alert_drugs_double_checked(
    draft: PrescriptionDraft, formulary: Formulary, settings: RxSettings
) -> list[Finding]:
    return [_finding(WARN, UNSUITABLE, f"{drug.label} is a high-alert drug (高警示药品): the pharmacist double-checks "
                                       "dose, frequency and patient.")
            for _, drug in formulary.lines(draft.items) if drug.high_alert]


SAFETY_RULES = (
    an_allergy_statement_is_recorded,
    high_alert_drugs_double_checked,
    no_incompatible_pair,
    antimicrobial_grade_allowed_online,
    no_drug_the_patient_is_allergic_to,
    no_drug_contraindicated_in_the_patients_state,
)
