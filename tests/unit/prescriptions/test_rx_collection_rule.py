"""RX-08: a pick-up is handed over once, after dispensing, to the patient or a named agent (dispensing/rules.py)."""

from __future__ import annotations

import pytest

from hospital.core.errors import InvalidTransition, RuleViolation
from hospital.core.messages import Message
from hospital.prescriptions.dispensing.rules import Collector, check_collection, collector_of

pytestmark = pytest.mark.requirement("RX-08")


def test_a_dispensed_pick_up_is_handed_to_the_patient_or_a_named_agent() -> None:
    assert collector_of("patient", "x") == (Collector.PATIENT, None)
    assert collector_of("agent", " 韩梅梅 ") == (Collector.AGENT, "韩梅梅")
    check_collection("pickup", dispensing_status="dispensed", collector=Collector.AGENT, agent_name="韩梅梅")


@pytest.mark.parametrize(("status", "key"), [(None, "dispensing.collect_not_dispensed"),
                                              ("collected", "dispensing.collected_already")])
def test_a_pick_up_is_not_handed_over_before_dispensing_nor_twice(status: str | None, key: str) -> None:
    with pytest.raises(InvalidTransition) as refused:
        check_collection("pickup", dispensing_status=status, collector=Collector.PATIENT, agent_name=None)
    assert refused.value.rule_id == "RX-08"
    assert isinstance(refused.value.said, Message) and refused.value.said.key == key  # its own sentence


def test_a_delivery_is_not_collected_and_an_agent_is_named() -> None:
    with pytest.raises(RuleViolation, match="delivery"):
        check_collection("delivery", dispensing_status="delivered", collector=Collector.PATIENT, agent_name=None)
    with pytest.raises(RuleViolation) as unnamed:
        check_collection("pickup", dispensing_status="dispensed", collector=Collector.AGENT,
                         agent_name=collector_of("agent", "  ")[1])
    assert unnamed.value.extra["field"] == "agent_name"
