"""The pure rules of the patient's pick-up or delivery choice and of shipping it (RX-08)."""

from __future__ import annotations

import pytest

from hospital.core.errors import Conflict, InvalidInput, InvalidTransition, RuleViolation
from hospital.prescriptions import rules as rx
from hospital.prescriptions.dispensing import rules as dr

pytestmark = pytest.mark.requirement("RX-08")

ADDRESS = {"province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园路1号",
           "recipient": "张三", "mobile": "13800138000", "postcode": None}


def test_a_complete_mainland_address_is_accepted_trimmed() -> None:
    assert dr.check_delivery_address({**ADDRESS, "city": " 深圳市 "}) == {**ADDRESS, "city": "深圳市", "postcode": ""}
    assert dr.check_delivery_address({**ADDRESS, "postcode": "518057"})["postcode"] == "518057"


@pytest.mark.parametrize(("change", "field"), [
    ({"province": "香港特别行政区"}, "province"), ({"province": "台湾省"}, "province"), ({"province": ""}, "province"),
    ({"city": ""}, "city"), ({"district": None}, "district"), ({"detail": "  "}, "detail"),
    ({"recipient": ""}, "recipient"), ({"mobile": "12800138000"}, "mobile"), ({"mobile": "138001380001"}, "mobile"),
    ({"mobile": "+8613800138000"}, "mobile"), ({"postcode": "5180571"}, "postcode"), ({"postcode": "51805a"}, "postcode"),
])
def test_an_incomplete_or_foreign_address_is_refused_naming_its_field(change: dict[str, str | None], field: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        dr.check_delivery_address({**ADDRESS, **change})
    assert refused.value.rule_id == "RX-08" and refused.value.extra["field"] == field


def test_only_a_delivery_with_an_address_is_shipped() -> None:
    dr.check_shippable("delivery", has_address=True)
    for method, has_address in (("pickup", True), ("pickup", False), ("delivery", False)):
        with pytest.raises(RuleViolation) as refused:
            dr.check_shippable(method, has_address=has_address)
        assert refused.value.rule_id == "RX-08"


def test_the_choice_is_open_until_dispensed_and_only_for_a_prescription_that_may_be() -> None:
    assert dr.check_fulfilment_choice("delivery", already_dispensed=False, status="approved") is dr.Fulfilment.DELIVERY
    assert dr.check_fulfilment_choice("pickup", already_dispensed=False, status="pending_review") is dr.Fulfilment.PICKUP
    with pytest.raises(Conflict):
        dr.check_fulfilment_choice("pickup", already_dispensed=True, status="approved")
    with pytest.raises(InvalidTransition):
        dr.check_fulfilment_choice("delivery", already_dispensed=False, status="rejected")
    with pytest.raises(InvalidInput):
        dr.check_fulfilment_choice("drone", already_dispensed=False, status="approved")


def test_a_list_shows_the_area_but_masks_street_recipient_and_phone() -> None:
    masked = rx.mask_address(dr.check_delivery_address(ADDRESS))
    assert masked == {"province": "广东省", "city": "深圳市", "district": "南山区", "detail": "****",
                      "recipient": "张*", "mobile": "138****8000", "postcode": ""}
