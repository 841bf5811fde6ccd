"""A prescription's life after signing (RX-06, RX-08): review, revision, dispensing, delivery. Pure.

    awaiting_countersign ──a paediatric doctor countersigns (REV-05, PD 17)──▶ pending_review
    pending_review ──approve──▶ approved ──dispense (once)──▶ dispensing: dispensed ─▶ shipped ─▶ delivered
                                                                               └─▶ collected (a pick-up)
          ├────────reject─────▶ rejected ──revise──▶ a new version, pending_review (the old one is kept)
          └─the visit is terminated or cancelled─▶ voided (and an approved one of such a visit is not dispensed)

There is no stored draft: the draft is the doctor's form, and it becomes a prescription only when the doctor
signs it (RX-07, FACE-03). The states are stored in `models.py`; each sub-area's service calls the checks for
its own act before changing them: writing `check_signed_by_hand`, `check_revisable`; review `check_reviewer`,
`check_reviewable`, `check_decision`; dispensing `check_dispensable`, `check_courier`, `next_delivery_status`.
It lives beneath the sub-areas because all three use it (the reason is in `hospital.prescriptions`). How the
drugs reach the patient (pick-up or delivery, the address, shipping, collection) only dispensing checks: those
rules are in `hospital.prescriptions.dispensing.rules`.
"""

from __future__ import annotations

import csv
import enum
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache
from pathlib import Path
from types import MappingProxyType

from hospital.core.errors import AccessRefused, Conflict, InvalidInput, InvalidTransition, RuleViolation
from hospital.core.messages import say
from hospital.core.rule_registry import rule
from hospital.signing.export import ReviewDecision

__all__ = [
    "CHILD_PRESCRIBING_UNDER_YEARS",
    "AcknowledgementReason",
    "CourierKind",
    "DispensingStatus",
    "DoubleCheck",
    "PrescriptionStatus",
    "ReviewDecision",
    "check_acknowledgements",
    "check_claim",
    "check_countersigner",
    "check_courier",
    "check_decision",
    "check_dispensable",
    "check_high_alert_double_checks",
    "check_reviewable",
    "check_reviewer",
    "check_revisable",
    "check_signed_by_hand",
    "check_visit_not_ended",
    "claim_is_live",
    "countersignature_needed",
    "mask_address",
    "next_delivery_status",
    "rejection_reasons",
]


class PrescriptionStatus(enum.StrEnum):
    # a child under 6's prescription by a doctor whose 执业范围 does not cover paediatrics (REV-05, PD 17)
    AWAITING_COUNTERSIGN = "awaiting_countersign"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"  # in effect (RX-06)
    REJECTED = "rejected"  # back to the doctor with reasons
    VOIDED = "voided"  # its visit was terminated or cancelled before a pharmacist decided it (never in effect)


class AcknowledgementReason(enum.StrEnum):
    """Why a pharmacist approves despite a rule's warning (审方: each warning answered, coded, signed)."""

    INDICATION_CONFIRMED = "indication_confirmed"  # 适应证已核实 (诊断、病历支持)
    DOSE_CONFIRMED_WITH_PRESCRIBER = "dose_confirmed_with_prescriber"  # 已与处方医师核对剂量/用法
    MONITORING_ARRANGED = "monitoring_arranged"  # 已安排监测 (INR、血钾、肝肾功能…)
    BENEFIT_OUTWEIGHS_RISK = "benefit_outweighs_risk"  # 获益大于风险, 已告知患者
    PATIENT_COUNSELLED = "patient_counselled"  # 已对患者用药交代
    LABEL_OR_GUIDELINE_SUPPORTED = "label_or_guideline_supported"  # 说明书或指南支持
    QUANTITY_JUSTIFIED = "quantity_justified"  # 用量、天数理由已记录且合理


class DoubleCheck(enum.StrEnum):
    """What the pharmacist checks again, one by one, before approving a high-alert drug (高警示药品): 五对."""

    PATIENT = "patient"  # 患者 (identity, weight, kidney and liver as recorded)
    DRUG = "drug"  # 药品 (name, strength, form)
    DOSE = "dose"  # 剂量 (single, daily, weekly; per kg for a child)
    FREQUENCY = "frequency"  # 频次
    ROUTE = "route"  # 给药途径


class DispensingStatus(enum.StrEnum):
    DISPENSED = "dispensed"  # prepared and checked by the pharmacy
    SHIPPED = "shipped"  # handed to the courier, tracking number known
    DELIVERED = "delivered"
    COLLECTED = "collected"  # a pick-up handed over at the pharmacy (dispensing/rules.py)


class CourierKind(enum.StrEnum):
    OWN = "own"  # the hospital's own delivery
    THIRD_PARTY = "third_party"  # a named courier company (第三方配送)


_DELIVERY_MOVES = {
    (DispensingStatus.DISPENSED, DispensingStatus.SHIPPED),
    (DispensingStatus.SHIPPED, DispensingStatus.DELIVERED),
}


@rule("RX-07", "A prescription exists only once its doctor checked the draft and signs that very draft",
      source="PD 17 严禁使用人工智能等自动生成处方; SP 实名认证")
def check_signed_by_hand(named_sha256: str, draft_sha256: str, dry_run_found: bool) -> None:
    """Signing names the hash the dry run returned, the draft signed is the one checked, and the dry run is the
    doctor's own, recent and unused; nothing creates prescriptions on its own."""
    if named_sha256 != draft_sha256:
        raise RuleViolation("RX-07", "the draft signed is not the draft checked: run the check "
                                     "(POST …/prescriptions/check) on this draft and sign with its draft_sha256")
    if not dry_run_found:
        raise RuleViolation("RX-07", "no recent dry run of this draft by you in this visit: check the draft "
                                     "(POST …/prescriptions/check) before signing it")


@rule("RX-06", "A prescription is reviewed by a pharmacist, never by its prescriber nor by a doctor",
      source="PD 17 处方经药师审核后方可生效; MS 第十三条")
def check_reviewer(reviewer_role: str, reviewer_user_id: uuid.UUID, prescriber_user_id: uuid.UUID) -> None:
    if reviewer_role != "pharmacist":
        raise AccessRefused("RX-06", f"a {reviewer_role} may not review prescriptions; a pharmacist reviews (审方)")
    if reviewer_user_id == prescriber_user_id:
        raise AccessRefused("RX-06", "nobody reviews their own prescription: another pharmacist must review it")


@rule("RX-06", "Only a prescription pending review is decided, and only once", source="PD 17")
def check_reviewable(status: str) -> None:
    if status != PrescriptionStatus.PENDING_REVIEW:
        raise InvalidTransition(f"the prescription is {status}, not pending review: it was already decided",
                                current_state=status, rule_id="RX-06")


REJECTION_REASONS_FILE = Path(__file__).parent / "data" / "rejection_reasons.csv"
REVIEW_CATEGORIES = frozenset({"non_standard", "unsuitable", "excessive"})  # writing.values.ReviewCategory


@cache
def rejection_reasons() -> Mapping[str, Mapping[str, str]]:
    """The reviewed 处方点评 codes a rejection names (data/rejection_reasons.csv): code → its row."""
    with REJECTION_REASONS_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for line, row in enumerate(rows, start=2):
        if not (row.get("code") and row.get("name_zh") and row.get("source")) or row["category"] not in REVIEW_CATEGORIES:
            raise ValueError(f"{REJECTION_REASONS_FILE.name}:{line}: a code, a known category, a name and a source")
    if len({r["code"] for r in rows}) != len(rows):
        raise ValueError(f"{REJECTION_REASONS_FILE.name}: duplicate code")
    return MappingProxyType({r["code"]: MappingProxyType(dict(r)) for r in rows})


@rule("RX-06", "A rejection goes back to the doctor with coded reasons (处方点评 categories)",
      source="PD 17; MS 第十三条; 医院处方点评管理规范（试行）第十七条至第十九条")
def check_decision(decision: str, reasons: Sequence[str], reason_codes: Sequence[str] = ()) -> ReviewDecision:
    """A rejection names at least one code of `rejection_reasons()` (notes may follow); an approval names none."""
    try:
        chosen = ReviewDecision(decision)
    except ValueError:
        raise InvalidInput(f"decision must be one of {[d.value for d in ReviewDecision]}") from None
    known = rejection_reasons()
    unknown = [code for code in reason_codes if code not in known]
    if unknown:
        raise RuleViolation("RX-06", f"{unknown} are not 处方点评 codes (prescriptions/data/rejection_reasons.csv)",
                            unknown=unknown)
    if chosen is ReviewDecision.APPROVE and reason_codes:
        raise RuleViolation("RX-06", "an approval names no rejection reason")
    if chosen is ReviewDecision.REJECT and not reason_codes:
        raise RuleViolation("RX-06", "a rejected prescription goes back to the doctor with coded reasons "
                                     "(处方点评: non_standard, unsuitable or excessive items), notes optional",
                            field="reason_codes")
    return chosen


def claim_is_live(claimed_by: uuid.UUID | None, claimed_until: datetime | None, now: datetime) -> bool:
    """A claim holds until its time runs out; a lapsed one holds nothing (and decided nothing)."""
    return claimed_by is not None and claimed_until is not None and claimed_until > now


@rule("RX-06", "A pharmacist reviews one claimed prescription at a time; an undecided claim lapses back to the "
               "queue and is never approved by the lapse",
      source="PD 17 处方经药师审核后方可生效; 医疗机构处方审核规范 (2018) 第十条 (审核由药师逐张进行)")
def check_claim(user_id: uuid.UUID, claimed_by: uuid.UUID | None, claimed_until: datetime | None, *,
                held_elsewhere: Sequence[str], now: datetime) -> None:
    """The pharmacist may claim (or decide) this prescription: nobody else holds a live claim on it, and they
    hold no live claim on another one (`held_elsewhere`: the numbers they hold)."""
    if claim_is_live(claimed_by, claimed_until, now) and claimed_by != user_id:
        raise Conflict(say("review.claimed_by_another"), rule_id="RX-06")
    if held_elsewhere:
        raise RuleViolation("RX-06", say("review.holding_another", numbers=", ".join(held_elsewhere)),
                            held=list(held_elsewhere))


ENDED_VISIT_STATES = frozenset({"terminated", "cancelled"})


@rule("RX-06", "A prescription of a terminated or cancelled visit is neither approved nor dispensed",
      source="PD 15 (停止诊疗并转线下); PD 17 处方经药师审核后方可生效")
def check_visit_not_ended(visit_state: str) -> None:
    if visit_state in ENDED_VISIT_STATES:
        raise RuleViolation("RX-06", f"the visit of this prescription was {visit_state}: the patient is referred "
                                     "offline and nothing written in it takes effect", visit_state=visit_state)


@rule("RX-06", "Approving a prescription with warnings acknowledges each warning with a coded reason",
      source="处方管理办法 第三十五条、第三十六条 (药师审核处方适宜性); 医疗机构处方审核规范 (2018)")
def check_acknowledgements(severities: Sequence[str], acknowledgements: Sequence[tuple[int, str]]
                           ) -> list[dict[str, object]]:
    """`severities` are the kept findings' in order; `acknowledgements` (finding index, reason code). Every warn
    finding has exactly one acknowledgement with a known reason, and nothing else is acknowledged; returns them
    as stored and signed: [{finding, reason}] in finding order."""
    warnings = {i for i, severity in enumerate(severities) if severity == "warn"}
    given: dict[int, str] = {}
    for index, reason in acknowledgements:
        if index not in warnings:
            raise RuleViolation("RX-06", f"finding {index} is not a warning of this prescription", finding=index)
        if index in given:
            raise RuleViolation("RX-06", f"warning {index} is acknowledged twice", finding=index)
        if reason not in {r.value for r in AcknowledgementReason}:
            raise RuleViolation("RX-06", f"{reason!r} is not a coded reason: one of "
                                         f"{[r.value for r in AcknowledgementReason]}", finding=index)
        given[index] = reason
    missing = sorted(warnings - given.keys())
    if missing:
        raise RuleViolation("RX-06", f"approving needs each warning acknowledged with a coded reason; "
                                     f"unacknowledged: {missing}", unacknowledged=missing)
    return [{"finding": i, "reason": given[i]} for i in sorted(given)]


@rule("RX-06", "A high-alert drug (高警示药品) is approved only after the pharmacist's recorded double check",
      source="中国药学会 高警示药品推荐目录(2019版) 及管理建议 (双人核对); 处方管理办法 第三十五条、第三十六条")
def check_high_alert_double_checks(high_alert_codes: Sequence[str],
                                   double_checks: Sequence[tuple[str, Sequence[str]]]) -> list[dict[str, object]]:
    """Every high-alert line of the prescription has one double check naming every `DoubleCheck` item, and
    nothing else is double-checked; returns them as stored and signed: [{drug_code, checks}]."""
    wanted = set(high_alert_codes)
    every = [c.value for c in DoubleCheck]
    given: dict[str, list[str]] = {}
    for code, checks in double_checks:
        if code not in wanted:
            raise RuleViolation("RX-06", f"{code!r} is not a high-alert drug of this prescription", drug_code=code)
        if code in given:
            raise RuleViolation("RX-06", f"{code!r} is double-checked twice", drug_code=code)
        missing = [c for c in every if c not in set(checks)]
        if missing:
            raise RuleViolation("RX-06", f"the double check of {code} leaves out {missing}: each of {every} is "
                                         "checked again", drug_code=code, missing=missing)
        given[code] = every
    unchecked = sorted(wanted - given.keys())
    if unchecked:
        raise RuleViolation("RX-06", f"approving a high-alert drug (高警示药品) needs the pharmacist's double check "
                                     f"of {every}; not double-checked: {unchecked}", unchecked=unchecked)
    return [{"drug_code": code, "checks": given[code]} for code in sorted(given)]


@rule("RX-06", "Only a rejected prescription is revised, once, by its doctor; the old version is kept",
      source="PD 17")
def check_revisable(status: str, already_revised: bool) -> None:
    if status != PrescriptionStatus.REJECTED:
        raise InvalidTransition(f"only a rejected prescription is revised; this one is {status}",
                                current_state=status, rule_id="RX-06")
    if already_revised:
        raise InvalidTransition("this version was already revised; revise the newest version",
                                current_state="superseded", rule_id="RX-06")


@rule("RX-06", "Only its prescriber withdraws a prescription, and only while rejected (not yet revised) or "
      "undecided; a withdrawn prescription is voided", source="PD 17")
def check_withdrawable(status: str, already_revised: bool, *, prescriber_user_id: uuid.UUID,
                       user_id: uuid.UUID) -> None:
    if user_id != prescriber_user_id:
        raise AccessRefused("RX-06", "only the doctor who signed a prescription withdraws it")
    withdrawable = (PrescriptionStatus.REJECTED, PrescriptionStatus.PENDING_REVIEW,
                    PrescriptionStatus.AWAITING_COUNTERSIGN)
    if status not in withdrawable:
        raise InvalidTransition(f"only a rejected or undecided prescription is withdrawn; this one is {status}",
                                current_state=status, rule_id="RX-06")
    if already_revised:
        raise InvalidTransition("this version was revised; the newest version is the one to withdraw",
                                current_state="superseded", rule_id="RX-06")


@rule("RX-06", "Only an approved prescription, within its validity, is dispensed, and only once",
      source="PD 17 (RX-06); 处方管理办法 第十八条 (validity); RX-07 no drugs before the prescription exists")
def check_dispensable(status: str, *, has_valid_approval: bool, already_dispensed: bool, valid_until: date,
                      today: date) -> None:
    if status != PrescriptionStatus.APPROVED:
        raise InvalidTransition(f"the prescription is {status}: only a pharmacist-approved prescription is in "
                                "effect and may be dispensed", current_state=status, rule_id="RX-06")
    if not has_valid_approval:
        raise RuleViolation("RX-06", "no valid pharmacist's review signature approves this prescription")
    if already_dispensed:
        raise Conflict(say("dispensing.already_dispensed"), rule_id="RX-08")
    if today > valid_until:
        raise RuleViolation("RX-03", say("dispensing.expired", valid_until=valid_until.isoformat()))


@rule("RX-08", "Delivery moves dispensed → shipped → delivered; shipping names the courier and tracking number",
      source="PD 17 处方流转、配送全程可追溯")
def next_delivery_status(current: str, target: str, *, tracking_number: str | None) -> DispensingStatus:
    try:
        wanted = DispensingStatus(target)
    except ValueError:
        raise InvalidInput(f"status must be one of {[s.value for s in DispensingStatus]}") from None
    if (DispensingStatus(current), wanted) not in _DELIVERY_MOVES:
        raise InvalidTransition(f"a dispensing that is {current} cannot become {wanted}", current_state=current,
                                rule_id="RX-08")
    if wanted is DispensingStatus.SHIPPED and not (tracking_number or "").strip():
        raise RuleViolation("RX-08", say("dispensing.tracking_needed"))
    return wanted


@rule("RX-08", "Every dispensing names who delivers it: the hospital's own delivery or a named courier company",
      source="PD 17 (自行或委托第三方配送)")
def check_courier(kind: str, name: str | None) -> tuple[CourierKind, str]:
    try:
        chosen = CourierKind(kind)
    except ValueError:
        raise InvalidInput(f"courier_kind must be one of {[k.value for k in CourierKind]}") from None
    named = (name or "").strip()
    if chosen is CourierKind.THIRD_PARTY and not named:
        raise RuleViolation("RX-08", "a third-party delivery names the courier company, so it can be traced")
    return chosen, named or "本院配送"


CHILD_PRESCRIBING_UNDER_YEARS = 6  # PD 17: 为低龄儿童（6岁以下）开具互联网儿童用药处方 … 相关专业医师陪伴


@rule("REV-05", "A child under 6's prescription needs a doctor whose practice scope covers paediatrics, or a "
      "second, paediatric doctor's countersignature before the pharmacist sees it", source="PD 17")
def countersignature_needed(patient_age_years: int, prescriber_covers_paediatrics: bool) -> bool:
    """True when the signed prescription waits for a paediatric countersignature (相关专业医师陪伴) instead of
    going to the pharmacist: the patient is under 6 and the prescriber's 执业范围 does not cover 07 儿科."""
    return patient_age_years < CHILD_PRESCRIBING_UNDER_YEARS and not prescriber_covers_paediatrics


@rule("REV-05", "Only another doctor whose practice scope covers paediatrics countersigns a child's prescription, "
      "once", source="PD 17")
def check_countersigner(status: str, countersigner_role: str, countersigner_user_id: uuid.UUID,
                        prescriber_user_id: uuid.UUID, countersigner_covers_paediatrics: bool) -> None:
    if status != PrescriptionStatus.AWAITING_COUNTERSIGN:
        raise InvalidTransition(f"the prescription is {status}: it does not await a countersignature",
                                current_state=status, rule_id="REV-05")
    if countersigner_role != "doctor":
        raise AccessRefused("REV-05", f"a {countersigner_role} does not countersign prescriptions; a paediatric "
                                      "doctor does")
    if countersigner_user_id == prescriber_user_id:
        raise AccessRefused("REV-05", "the prescriber does not countersign their own prescription")
    if not countersigner_covers_paediatrics:
        raise AccessRefused("REV-05", "only a doctor whose 执业范围 covers paediatrics (儿科专业) countersigns a "
                                      "prescription for a child under 6")


def mask_address(address: dict[str, str]) -> dict[str, str]:
    """The address as a list shows it (SEC-01): the area in full, the street, recipient and phone masked."""
    mobile = address.get("mobile", "")
    recipient = address.get("recipient", "")
    return {"province": address.get("province", ""), "city": address.get("city", ""),
            "district": address.get("district", ""), "detail": "****",
            "recipient": (recipient[:1] + "*" * max(len(recipient) - 1, 1)) if recipient else "",
            "mobile": f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) == 11 else "****", "postcode": ""}
