"""Shared values for the visit rule tests: the packaged tables and builders of valid inputs, as fixtures
(so the tests import nothing from this file and work under any pytest import mode)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from stdnum.cn import ric

from hospital.visits.intake.reference import intake_tables
from hospital.visits.intake.rules.eligibility import ConsentAcceptance, Guardian
from hospital.visits.intake.rules.evidence import PriorDiagnosis
from hospital.visits.intake.tables import IntakeTables


@pytest.fixture(scope="session")
def tables() -> IntakeTables:
    return intake_tables()


@pytest.fixture
def visit_date() -> date:
    return date(2025, 6, 15)


@pytest.fixture
def approved() -> frozenset[str]:
    """A licence with internal medicine (all its specialties), general practice, paediatrics, dermatology."""
    return frozenset({"02", "03", "07", "13"})


@pytest.fixture
def resident_id() -> Callable[[date], str]:
    def build(birth: date, order: str = "123") -> str:
        body = f"110101{birth:%Y%m%d}{order}"
        return body + ric.calc_check_digit(body + "0")

    return build


@pytest.fixture
def make_prior(visit_date: date) -> Callable[..., PriorDiagnosis]:
    """A complete prior diagnosis of essential hypertension two months before the visit, with changes."""

    def build(**changes: Any) -> PriorDiagnosis:
        base = PriorDiagnosis(
            icd10_code="I10",
            diagnosis_name="原发性高血压",
            document_type="outpatient_record",
            institution_name="上海市浦东新区人民医院",
            diagnosed_on=date(2025, 4, 15),
            document_sha256=hashlib.sha256(b"scanned outpatient record").hexdigest(),
        )
        return replace(base, **changes)

    return build


@pytest.fixture
def make_guardian(resident_id: Callable[[date], str]) -> Callable[..., Guardian]:
    def build(**changes: Any) -> Guardian:
        return replace(Guardian("张伟", resident_id(date(1990, 3, 1)), "parent", present_confirmed=True), **changes)

    return build


@pytest.fixture
def make_consent() -> Callable[[str], ConsentAcceptance]:
    def build(version: str = "v1") -> ConsentAcceptance:
        return ConsentAcceptance(version, datetime(2025, 6, 1, 9, 30, tzinfo=UTC), "203.0.113.7")

    return build
