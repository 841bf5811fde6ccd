"""How the drugs reach the patient (RX-08): the pick-up or delivery choice, the delivery address, shipping only
what the patient asked to have delivered, and handing over a pick-up at the pharmacy. Pure.

    dispensed ──the pharmacist hands the drugs to the patient or their named agent──▶ collected (once)

A delivery ends `delivered` (`hospital.prescriptions.rules.next_delivery_status`); a pick-up ends here. Only
dispensing uses these checks, so they live in its room; the list's masking of an address (`mask_address`) stays
beneath every act in `hospital.prescriptions.rules`, as the shared queries show it.
"""

from __future__ import annotations

import enum
import re

from hospital.core.errors import Conflict, InvalidInput, InvalidTransition, RuleViolation
from hospital.core.messages import say
from hospital.core.rule_registry import rule
from hospital.prescriptions.rules import DispensingStatus, PrescriptionStatus

__all__ = [
    "Collector",
    "Fulfilment",
    "check_collection",
    "check_delivery_address",
    "check_fulfilment_choice",
    "check_shippable",
    "collector_of",
]


class Fulfilment(enum.StrEnum):
    """How the patient receives the drugs (RX-08): collected at the hospital pharmacy, or delivered. Until the
    patient chooses, a prescription is for pick-up."""

    PICKUP = "pickup"
    DELIVERY = "delivery"


# The mainland's provincial-level divisions (GB/T 2260): delivery is to a mainland address; Hong Kong, Macao and
# Taiwan are outside this service's scope (the prescription and the courier's record stay under mainland rules).
MAINLAND_PROVINCES = frozenset({
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市", "江苏省",
    "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "广西壮族自治区",
    "海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省", "青海省",
    "宁夏回族自治区", "新疆维吾尔自治区"})
MOBILE = re.compile(r"1[3-9]\d{9}")
POSTCODE = re.compile(r"\d{6}")
ADDRESS_FIELDS = ("province", "city", "district", "detail", "recipient", "mobile", "postcode")
_ADDRESS_LIMITS = {"city": 50, "district": 50, "detail": 200, "recipient": 50}


@rule("RX-08", "Delivery goes to a complete mainland address: province, city, district, street, recipient and a "
               "mainland mobile number (postcode optional)", source="PD 17 (配送全程可追溯)")
def check_delivery_address(address: dict[str, str | None]) -> dict[str, str]:
    """The address, trimmed, or a refusal naming the first field that is missing or malformed."""
    clean = {k: (address.get(k) or "").strip() for k in ADDRESS_FIELDS}
    if clean["province"] not in MAINLAND_PROVINCES:
        raise RuleViolation("RX-08", "the province must be one of the mainland's provinces, autonomous regions "
                                     "or municipalities, written in full (e.g. 广东省)", field="province")
    for name, limit in _ADDRESS_LIMITS.items():
        if not clean[name] or len(clean[name]) > limit:
            raise RuleViolation("RX-08", f"the delivery address needs its {name} (at most {limit} characters)",
                                field=name)
    if not MOBILE.fullmatch(clean["mobile"]):
        raise RuleViolation("RX-08", "the recipient's mobile number is 11 digits starting 13-19", field="mobile")
    if clean["postcode"] and not POSTCODE.fullmatch(clean["postcode"]):
        raise RuleViolation("RX-08", "a postcode is 6 digits", field="postcode")
    return clean


@rule("RX-08", "Only a prescription the patient chose to have delivered is shipped, and only to its address",
      source="PD 17 (配送全程可追溯)")
def check_shippable(fulfilment: str, *, has_address: bool) -> None:
    if fulfilment != Fulfilment.DELIVERY:
        raise RuleViolation("RX-08", say("dispensing.pickup_not_shipped"))
    if not has_address:
        raise RuleViolation("RX-08", say("dispensing.address_missing"))


@rule("RX-08", "The patient chooses pick-up or delivery until the prescription is dispensed", source="PD 17")
def check_fulfilment_choice(method: str, *, already_dispensed: bool, status: str) -> Fulfilment:
    try:
        chosen = Fulfilment(method)
    except ValueError:
        raise InvalidInput(f"method must be one of {[f.value for f in Fulfilment]}") from None
    if already_dispensed:
        raise Conflict("the prescription has been dispensed: its pick-up or delivery is settled", rule_id="RX-08")
    if status not in (PrescriptionStatus.PENDING_REVIEW, PrescriptionStatus.APPROVED):
        raise InvalidTransition(f"the prescription is {status}: it will not be dispensed", current_state=status,
                                rule_id="RX-08")
    return chosen


class Collector(enum.StrEnum):
    PATIENT = "patient"  # the patient in person
    AGENT = "agent"  # someone the patient sent (代取), named on the record


AGENT_NAME_MAX = 50


def collector_of(collector: str, agent_name: str | None) -> tuple[Collector, str | None]:
    """Who collects, and the agent's name trimmed (None for the patient in person)."""
    try:
        who = Collector(collector)
    except ValueError:
        raise InvalidInput(f"collector must be one of {[c.value for c in Collector]}") from None
    name = (agent_name or "").strip() or None
    return who, name if who is Collector.AGENT else None


@rule("RX-08", "A pick-up is handed over at the pharmacy once, after it is dispensed, to the patient or a named agent",
      source="PD 17 (配送全程可追溯)")
def check_collection(fulfilment: str, *, dispensing_status: str | None, collector: Collector,
                     agent_name: str | None) -> None:
    """Refused: not a pick-up, not yet dispensed, already collected, an agent without a name."""
    if fulfilment != Fulfilment.PICKUP:
        raise RuleViolation("RX-08", say("dispensing.collect_delivery"))
    if dispensing_status is None:
        raise InvalidTransition(say("dispensing.collect_not_dispensed"), current_state="not_dispensed",
                                rule_id="RX-08")
    if dispensing_status == DispensingStatus.COLLECTED:
        raise InvalidTransition(say("dispensing.collected_already"), current_state=dispensing_status, rule_id="RX-08")
    if dispensing_status != DispensingStatus.DISPENSED:
        raise InvalidTransition(say("dispensing.collect_not_dispensed"), current_state=dispensing_status,
                                rule_id="RX-08")
    if collector is Collector.AGENT and (agent_name is None or len(agent_name) > AGENT_NAME_MAX):
        raise RuleViolation("RX-08", say("dispensing.agent_unnamed", limit=AGENT_NAME_MAX), field="agent_name")
