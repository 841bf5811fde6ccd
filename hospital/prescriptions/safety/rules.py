"""What a valid safety context is (RX-04): an explicit allergy statement in the formulary's vocabulary, a
pregnancy only for a woman, plausible measurements. Pure."""

from __future__ import annotations

from decimal import Decimal

from hospital.core.errors import RuleViolation
from hospital.core.rule_registry import rule
from hospital.prescriptions.formulary.values import Formulary
from hospital.prescriptions.safety.values import AllergyStatus, Pregnancy, SafetyContext

__all__ = ["allergy_vocabulary", "check_safety_context"]


def allergy_vocabulary(formulary: Formulary) -> frozenset[str]:
    """The codes a patient or doctor may record: the allergen groups' names and the formulary's substances."""
    groups = {g.name for g in formulary.allergen_groups}
    substances = {d.generic_name for d in formulary}
    return frozenset(groups | substances)


@rule("RX-04", "The patient's safety context is an explicit, coded statement",
      source="处方管理办法 第三十五条 (药师审核: 过敏史、特殊人群); 电子病历应用管理规范 过敏史")
def check_safety_context(context: SafetyContext, formulary: Formulary, *, patient_sex: str) -> SafetyContext:
    """The context as recorded, or RuleViolation naming what is wrong. Allergies are codes of the formulary's
    vocabulary (free text is what nothing reads), listed only with the `allergies` status; "no known
    allergies" lists none."""
    vocabulary = allergy_vocabulary(formulary)
    allergies = tuple(dict.fromkeys(a.strip().casefold() for a in context.allergies if a.strip()))
    if context.allergy_status is AllergyStatus.ALLERGIES and not allergies:
        raise RuleViolation("RX-04", "name the allergies (coded), or state no known allergies", field="allergies")
    if context.allergy_status is AllergyStatus.NO_KNOWN_ALLERGIES and allergies:
        raise RuleViolation("RX-04", "no known allergies lists no allergy", field="allergies")
    unknown = [a for a in allergies if a not in vocabulary]
    if unknown:
        raise RuleViolation("RX-04", f"{unknown[0]!r} is not in the formulary's allergy vocabulary "
                                     "(an allergen group such as penicillins, or a formulary substance)",
                            field="allergies", vocabulary=sorted(vocabulary))
    if patient_sex != "female" and (context.pregnancy not in (Pregnancy.NOT_APPLICABLE, Pregnancy.NOT_PREGNANT)
                                    or context.lactating):
        raise RuleViolation("RX-04", "pregnancy and lactation are recorded for female patients", field="pregnancy")
    if context.weight_kg is not None and not Decimal("0.3") <= context.weight_kg <= Decimal(350):
        raise RuleViolation("RX-04", "the weight is in kg, from 0.3 to 350", field="weight_kg")
    if context.height_cm is not None and not Decimal(20) <= context.height_cm <= Decimal(260):
        raise RuleViolation("RX-04", "the height is in cm, from 20 to 260", field="height_cm")
    if context.egfr is not None and not 0 <= context.egfr <= 200:
        raise RuleViolation("RX-04", "the eGFR is in mL/min/1.73m², from 0 to 200", field="egfr")
    return SafetyContext(allergy_status=context.allergy_status, allergies=allergies, pregnancy=context.pregnancy,
                         lactating=context.lactating, renal=context.renal, egfr=context.egfr, hepatic=context.hepatic,
                         weight_kg=context.weight_kg, height_cm=context.height_cm, note=context.note.strip())
