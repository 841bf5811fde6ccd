from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from hospital.core.errors import RuleViolation, ServiceStopped
from hospital.institution.rules import LicenceFacts, check_department_approved, check_licence_in_force

pytestmark = pytest.mark.requirement("INS-01", "INS-02", "QA-02")

LICENCE = LicenceFacts("PDY0001", date(2025, 1, 1), date(2027, 12, 31), ("门诊", "互联网诊疗"))


def test_a_licence_in_force_passes() -> None:
    assert check_licence_in_force(LICENCE, date(2026, 11, 23)) is LICENCE


@pytest.mark.parametrize(
    ("licence", "today", "words"),
    [
        (None, date(2026, 1, 1), "no licence"),
        (LICENCE, date(2028, 1, 1), "expired"),
        (LICENCE, date(2024, 12, 31), "not valid before"),
        (LicenceFacts("X", date(2025, 1, 1), date(2027, 1, 1), ("门诊",)), date(2026, 1, 1), "互联网诊疗"),
    ],
)
def test_clinical_work_stops_without_a_licence_in_force(licence: LicenceFacts | None, today: date, words: str) -> None:
    with pytest.raises(ServiceStopped) as stopped:
        check_licence_in_force(licence, today)
    assert stopped.value.rule_id == "INS-01"
    assert words in stopped.value.detail


def test_a_department_not_on_the_licence_is_refused() -> None:
    check_department_approved("03.03", {"03", "03.03"})
    with pytest.raises(RuleViolation) as refused:
        check_department_approved("04", {"03", "03.03"})
    assert refused.value.rule_id == "INS-02"


def test_an_approved_first_level_department_covers_its_specialties_but_not_the_reverse() -> None:
    check_department_approved("03.04", {"03"})
    with pytest.raises(RuleViolation) as refused:
        check_department_approved("03", {"03.04"})
    assert refused.value.rule_id == "INS-02"
    with pytest.raises(RuleViolation):
        check_department_approved("030.4", {"03"})  # a prefix that is not a 二级科目 of 03


def test_a_clinician_of_a_first_level_department_practises_in_its_subspecialties() -> None:
    from datetime import date

    from hospital.core.errors import AccessRefused
    from hospital.staff.rules import StaffKind, StaffStanding, check_can_practise

    standing = StaffStanding(StaffKind.DOCTOR, False, ("03",), practice_scope="内科专业")
    check_can_practise(standing, date(2026, 11, 23), "03.04")
    with pytest.raises(AccessRefused):
        check_can_practise(standing, date(2026, 11, 23), "07")


def test_a_surgeons_scope_does_not_cover_cardiology_at_the_moment_of_acting() -> None:
    from datetime import date

    from hospital.core.errors import AccessRefused
    from hospital.staff.rules import StaffKind, StaffStanding, check_can_practise

    # Assigned 03.04 (an old row, or a table since revised), but registered as a surgeon: refused at every act.
    standing = StaffStanding(StaffKind.DOCTOR, False, ("03.04",), practice_scope="外科专业")
    with pytest.raises(AccessRefused, match="外科专业"):
        check_can_practise(standing, date(2026, 11, 23), "03.04")


def test_a_licence_is_recorded_only_in_its_formats() -> None:
    from hospital.institution.rules import LicenceText, check_licence_fields

    good = LicenceText("PDY00001X31011511A1001", "示范医院", "示范互联网医院", "上海市浦东新区卫生健康委员会",
                       date(2025, 1, 1), date(2027, 12, 31), ("门诊", "互联网诊疗"))
    check_licence_fields(good)
    for bad, field in [
        (dataclasses.replace(good, licence_number="pdy 0001"), "licence_number"),
        (dataclasses.replace(good, internet_hospital_name="示范网上诊所"), "internet_hospital_name"),
        (dataclasses.replace(good, institution_name="示范医院\x07"), "institution_name"),
        (dataclasses.replace(good, valid_until=date(2024, 12, 31)), "valid_until"),
        (dataclasses.replace(good, service_modes=()), "service_modes"),
    ]:
        with pytest.raises(RuleViolation) as refused:
            check_licence_fields(bad)
        assert refused.value.rule_id == "INS-01" and refused.value.extra.get("field") == field


def test_a_department_opens_only_with_a_full_and_an_associate_senior_physician() -> None:
    from hospital.institution.rules import SeniorPhysician, check_department_opening

    full = SeniorPhysician("王主任", "主任医师", "110310000000001")
    associate = SeniorPhysician("李副主任", "副主任医师", "110310000000002")
    check_department_opening("03.04", [full, associate])
    for physicians in ([full], [associate], [full, SeniorPhysician("张", "副主任医师", "1103")],
                       [full, associate, full], [full, SeniorPhysician("赵", "主治医师", "110310000000003")]):
        with pytest.raises(RuleViolation) as refused:
            check_department_opening("03.04", physicians)
        assert refused.value.rule_id == "INS-02"


def test_a_whole_service_stop_names_a_coded_reason_and_a_second_administrator_confirms_it() -> None:
    import uuid

    from hospital.institution.rules import (
        check_service_stop_confirmation,
        check_service_stop_reason,
        service_stop_reasons,
    )

    code = next(iter(service_stop_reasons()))
    assert check_service_stop_reason(code, "  机房  断电，暂停服务 ") == "机房 断电，暂停服务"
    for reason_code, reason in (("no-such-reason", "机房断电，暂停服务"), (code, "..."), (code, "")):
        with pytest.raises(RuleViolation) as refused:
            check_service_stop_reason(reason_code, reason)
        assert refused.value.rule_id == "QA-02"
    first, second = uuid.uuid4(), uuid.uuid4()
    check_service_stop_confirmation(first, second)
    for requested, confirmed in ((first, first), (first, None), (None, second)):
        with pytest.raises(RuleViolation) as refused:
            check_service_stop_confirmation(requested, confirmed)
        assert refused.value.rule_id == "QA-02"
