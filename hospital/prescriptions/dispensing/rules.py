"""Handing over a pick-up at the pharmacy (RX-08): the last step of a prescription the patient collects. Pure.

    dispensed ──the pharmacist hands the drugs to the patient or their named agent──▶ collected (once)

A delivery ends `delivered` (`hospital.prescriptions.rules.next_delivery_status`); a pick-up ends here.
"""

from __future__ import annotations

import enum

from hospital.core.errors import InvalidInput, InvalidTransition, RuleViolation
from hospital.core.messages import say
from hospital.core.rule_registry import rule
from hospital.prescriptions.rules import DispensingStatus, Fulfilment

__all__ = ["Collector", "check_collection", "collector_of"]


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
