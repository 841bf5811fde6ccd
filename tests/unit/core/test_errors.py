from __future__ import annotations

import hospital.core.errors as errors
from hospital.core.problems import STATUS_BY_ERROR, status_for


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_error_class_of_the_hierarchy_has_a_status() -> None:
    declared = {c for c in _subclasses(errors.HospitalError) if c.__module__ == "hospital.core.errors"}
    assert declared - set(STATUS_BY_ERROR) == set()


def test_area_errors_specialise_a_mapped_class_not_the_bare_root() -> None:
    import hospital.app  # noqa: F401  (imports every area and its errors)

    for cls in _subclasses(errors.HospitalError):
        if cls.__module__ != "hospital.core.errors":
            assert cls.__mro__[1] is not errors.HospitalError, f"{cls} must specialise a mapped error class"


def test_statuses_follow_the_most_specific_class() -> None:
    assert status_for(errors.RuleViolation("RX-02", "x")) == 422
    assert status_for(errors.AccessRefused("FACE-02", "x")) == 403
    assert status_for(errors.ServiceStopped("INS-01", "x")) == 503
    assert status_for(errors.NotFound("x")) == 404


def test_rule_violation_carries_its_rule_id() -> None:
    exc = errors.RuleViolation("RX-02", "morphine is never prescribed online")
    assert exc.rule_id == "RX-02"
    assert str(exc) == "RX-02: morphine is never prescribed online"
