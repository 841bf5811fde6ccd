"""PD 17 (REV-05): a child under 6's prescription needs a paediatric prescriber or a paediatric countersignature."""

from __future__ import annotations

import uuid

import pytest

from hospital.core.errors import AccessRefused, InvalidTransition
from hospital.prescriptions.rules import PrescriptionStatus, check_countersigner, countersignature_needed
from hospital.staff.rules import covers_paediatrics

pytestmark = pytest.mark.requirement("REV-05")


def test_only_a_child_under_six_by_a_non_paediatric_prescriber_waits_for_a_countersignature() -> None:
    assert countersignature_needed(5, prescriber_covers_paediatrics=False) is True
    assert countersignature_needed(0, prescriber_covers_paediatrics=False) is True
    assert not countersignature_needed(5, prescriber_covers_paediatrics=True)
    assert not countersignature_needed(6, prescriber_covers_paediatrics=False)


def test_the_scope_table_decides_who_covers_paediatrics() -> None:
    assert covers_paediatrics("儿科专业")
    assert not covers_paediatrics("内科专业") and not covers_paediatrics("外科专业")
    assert not covers_paediatrics("随便什么专业")


def test_only_another_paediatric_doctor_countersigns_a_waiting_prescription_once() -> None:
    prescriber, other = uuid.uuid4(), uuid.uuid4()
    waiting = PrescriptionStatus.AWAITING_COUNTERSIGN
    check_countersigner(waiting, "doctor", other, prescriber, countersigner_covers_paediatrics=True)
    for role, who, covers in (("doctor", prescriber, True), ("doctor", other, False), ("pharmacist", other, True)):
        with pytest.raises(AccessRefused) as refused:
            check_countersigner(waiting, role, who, prescriber, countersigner_covers_paediatrics=covers)
        assert refused.value.rule_id == "REV-05"
    with pytest.raises(InvalidTransition):
        check_countersigner(PrescriptionStatus.PENDING_REVIEW, "doctor", other, prescriber,
                            countersigner_covers_paediatrics=True)
