"""Revisit-only intake: PAT-02, REV-01 … REV-05."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from hospital.core.errors import RuleViolation
from hospital.core.rule_registry import Severity, rules_for
from hospital.visits.intake.rules import IntakeRequest, check_intake
from hospital.visits.intake.rules.eligibility import (
    Guardian,
    check_consent,
    check_guardian,
    check_not_excluded,
    check_prior_diagnosis_valid,
    infectious_flag,
)
from hospital.visits.intake.rules.evidence import DocumentType, InstitutionKind, PriorDiagnosis, check_prior_diagnosis_on_file
from hospital.visits.intake.tables import IntakeTables, StatutoryClass

pytestmark = pytest.mark.requirement("PAT-02", "REV-01", "REV-02", "REV-03", "REV-04", "REV-05")

MakePrior = Callable[..., PriorDiagnosis]


def refusal(call: Callable[[], object]) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        call()
    return caught.value


# REV-03: refused online -------------------------------------------------------------------------------


def test_cholera_is_refused_as_a_class_a_infectious_disease(tables: IntakeTables) -> None:
    error = refusal(lambda: check_not_excluded("A00.9", tables=tables))
    assert error.rule_id == "REV-03"
    assert error.extra["kind"] == "class_a_infectious"
    assert "class_a_infectious" in error.detail


def test_plague_is_refused_as_class_a(tables: IntakeTables) -> None:
    assert refusal(lambda: check_not_excluded("A20.0", tables=tables)).extra["kind"] == "class_a_infectious"


def test_pulmonary_anthrax_is_refused_as_managed_like_class_a(tables: IntakeTables) -> None:
    error = refusal(lambda: check_not_excluded("A22.1", tables=tables))
    assert error.extra["kind"] == "managed_as_class_a"


def test_sars_is_refused_as_managed_like_class_a(tables: IntakeTables) -> None:
    assert refusal(lambda: check_not_excluded("U04.9", tables=tables)).extra["kind"] == "managed_as_class_a"


def test_cutaneous_anthrax_is_not_refused_but_flagged(tables: IntakeTables) -> None:
    check_not_excluded("A22.0", tables=tables)
    flag = infectious_flag("A22.0", tables=tables)
    assert flag is not None
    assert flag.statutory_class is StatutoryClass.B
    assert not flag.managed_as_class_a


def test_acute_myocardial_infarction_is_refused_as_critical(tables: IntakeTables) -> None:
    error = refusal(lambda: check_not_excluded("I21.9", tables=tables))
    assert error.rule_id == "REV-03"
    assert error.extra["kind"] == "critical_emergency"


def test_acute_stroke_is_refused_but_its_sequelae_are_not(tables: IntakeTables) -> None:
    assert refusal(lambda: check_not_excluded("I63.9", tables=tables)).extra["kind"] == "critical_emergency"
    check_not_excluded("I69.3", tables=tables)


def test_acute_abdomen_is_refused_as_needing_examination(tables: IntakeTables) -> None:
    assert refusal(lambda: check_not_excluded("R10.0", tables=tables)).extra["kind"] == "needs_physical_exam"


def test_a_national_clinical_code_is_refused_through_its_who_prefix(tables: IntakeTables) -> None:
    assert refusal(lambda: check_not_excluded("I21.900", tables=tables)).extra["kind"] == "critical_emergency"


# REV-04: infectious flag ------------------------------------------------------------------------------


def test_tuberculosis_is_flagged_as_notifiable_infectious(tables: IntakeTables) -> None:
    flag = infectious_flag("A15.0", tables=tables)
    assert flag is not None
    assert flag.disease_zh.startswith("结核病")
    assert flag.statutory_class is StatutoryClass.B
    assert flag.report_within_hours == 24


def test_pulmonary_anthrax_is_flagged_for_a_two_hour_report(tables: IntakeTables) -> None:
    flag = infectious_flag("A22.1", tables=tables)
    assert flag is not None
    assert flag.managed_as_class_a
    assert flag.report_within_hours == 2


def test_hypertension_is_not_flagged(tables: IntakeTables) -> None:
    assert infectious_flag("I10", tables=tables) is None


def test_covid_is_flagged_but_vaping_disorder_in_the_same_category_is_not(tables: IntakeTables) -> None:
    assert infectious_flag("U07.1", tables=tables) is not None
    assert infectious_flag("U07.0", tables=tables) is None


# REV-01: a prior diagnosis on file --------------------------------------------------------------------


def test_no_prior_diagnosis_is_refused_as_a_first_visit(visit_date: date) -> None:
    error = refusal(lambda: check_prior_diagnosis_on_file(None, today=visit_date))
    assert error.rule_id == "REV-01"
    assert "首诊" in error.detail


def test_a_missing_document_type_is_refused(make_prior: MakePrior, visit_date: date) -> None:
    error = refusal(lambda: check_prior_diagnosis_on_file(make_prior(document_type=""), today=visit_date))
    assert error.rule_id == "REV-01"
    assert "discharge_summary" in error.detail


def test_an_unlisted_document_type_is_refused(make_prior: MakePrior, visit_date: date) -> None:
    prior = make_prior(document_type="prescription_slip")
    assert refusal(lambda: check_prior_diagnosis_on_file(prior, today=visit_date)).rule_id == "REV-01"


@pytest.mark.parametrize("kind", [t.value for t in DocumentType])
def test_each_listed_document_type_is_accepted(kind: str, make_prior: MakePrior, visit_date: date) -> None:
    prior = make_prior(document_type=kind)
    assert check_prior_diagnosis_on_file(prior, today=visit_date) is prior


def test_a_diagnosis_dated_in_the_future_is_refused(make_prior: MakePrior, visit_date: date) -> None:
    prior = make_prior(diagnosed_on=date(2025, 6, 16))
    assert "future" in refusal(lambda: check_prior_diagnosis_on_file(prior, today=visit_date)).detail


def test_a_diagnosis_without_institution_is_refused(make_prior: MakePrior, visit_date: date) -> None:
    prior = make_prior(institution_name=" ")
    assert "institution" in refusal(lambda: check_prior_diagnosis_on_file(prior, today=visit_date)).detail


def test_a_diagnosis_made_online_is_refused(make_prior: MakePrior, visit_date: date) -> None:
    prior = make_prior(institution_kind=InstitutionKind.INTERNET_HOSPITAL)
    assert "physical" in refusal(lambda: check_prior_diagnosis_on_file(prior, today=visit_date)).detail


def test_a_diagnosis_whose_document_was_not_kept_is_refused(make_prior: MakePrior, visit_date: date) -> None:
    prior = make_prior(document_sha256=None)
    assert "kept" in refusal(lambda: check_prior_diagnosis_on_file(prior, today=visit_date)).detail


# REV-02: coded, recent, within the licence --------------------------------------------------------------


def valid(prior: PriorDiagnosis, tables: IntakeTables, approved: frozenset[str], on: date) -> object:
    return check_prior_diagnosis_valid(prior, visit_date=on, approved_department_codes=approved, tables=tables)


def test_a_thirteen_month_old_hypertension_diagnosis_is_refused_naming_the_window(
    make_prior: MakePrior, tables: IntakeTables, approved: frozenset[str], visit_date: date
) -> None:
    prior = make_prior(diagnosed_on=date(2024, 5, 15))
    error = refusal(lambda: valid(prior, tables, approved, visit_date))
    assert error.rule_id == "REV-02"
    assert "12-month window for hypertension" in error.detail
    assert error.extra["window_months"] == 12


def test_an_eleven_month_old_hypertension_diagnosis_is_accepted(
    make_prior: MakePrior, tables: IntakeTables, approved: frozenset[str], visit_date: date
) -> None:
    code = valid(make_prior(diagnosed_on=date(2024, 7, 15)), tables, approved, visit_date)
    assert getattr(code, "code", None) == "I10"


def test_a_hypertension_diagnosis_exactly_twelve_months_old_is_still_accepted(
    make_prior: MakePrior, tables: IntakeTables, approved: frozenset[str], visit_date: date
) -> None:
    valid(make_prior(diagnosed_on=date(2024, 6, 15)), tables, approved, visit_date)
    refusal(lambda: valid(make_prior(diagnosed_on=date(2024, 6, 14)), tables, approved, visit_date))


def test_a_four_month_old_acute_diagnosis_is_refused_by_the_default_window(
    make_prior: MakePrior, tables: IntakeTables, approved: frozenset[str], visit_date: date
) -> None:
    prior = make_prior(icd10_code="J20.9", diagnosis_name="急性支气管炎", diagnosed_on=date(2025, 2, 15))
    error = refusal(lambda: valid(prior, tables, approved, visit_date))
    assert "3-month window for default" in error.detail


def test_a_configured_longer_default_window_accepts_the_same_diagnosis(
    make_prior: MakePrior, tables: IntakeTables, approved: frozenset[str], visit_date: date
) -> None:
    prior = make_prior(icd10_code="J20.9", diagnosis_name="急性支气管炎", diagnosed_on=date(2025, 2, 15))
    valid(prior, tables.with_recency_windows({"default": 6}), approved, visit_date)


def test_an_unknown_code_is_refused(
    make_prior: MakePrior, tables: IntakeTables, approved: frozenset[str], visit_date: date
) -> None:
    error = refusal(lambda: valid(make_prior(icd10_code="I10.7"), tables, approved, visit_date))
    assert error.rule_id == "REV-02"
    assert "I10.7" in error.detail


def test_a_diagnosis_outside_the_licensed_departments_is_refused(
    make_prior: MakePrior, tables: IntakeTables, visit_date: date
) -> None:
    prior = make_prior(icd10_code="H40.1", diagnosis_name="原发性开角型青光眼")
    error = refusal(lambda: valid(prior, tables, frozenset({"03"}), visit_date))
    assert error.rule_id == "REV-02"
    assert "10 眼科" in error.detail
    assert "licence" in error.detail


def test_a_licensed_specialty_serves_its_diagnosis(make_prior: MakePrior, tables: IntakeTables, visit_date: date) -> None:
    valid(make_prior(icd10_code="E11.900", diagnosis_name="2型糖尿病"), tables, frozenset({"03.07"}), visit_date)


def test_a_visit_booked_in_a_department_that_does_not_serve_the_diagnosis_is_refused(
    make_prior: MakePrior, tables: IntakeTables, approved: frozenset[str], visit_date: date
) -> None:
    error = refusal(
        lambda: check_prior_diagnosis_valid(
            make_prior(),
            visit_date=visit_date,
            approved_department_codes=approved,
            tables=tables,
            visit_department_code="13",
        )
    )
    assert "13 皮肤科" in error.detail


def test_a_symptom_code_is_not_a_definite_diagnosis(
    make_prior: MakePrior, tables: IntakeTables, approved: frozenset[str], visit_date: date
) -> None:
    error = refusal(lambda: valid(make_prior(icd10_code="R51", diagnosis_name="头痛"), tables, approved, visit_date))
    assert "not a definite diagnosis" in error.detail


# REV-05: guardians ------------------------------------------------------------------------------------


def test_a_five_year_old_without_a_guardian_is_refused(visit_date: date) -> None:
    error = refusal(lambda: check_guardian(date(2020, 1, 10), visit_date, None))
    assert error.rule_id == "REV-05"
    assert "is 5" in error.detail


def test_a_five_year_old_with_a_present_guardian_is_accepted(visit_date: date, make_guardian: Callable[..., Guardian]) -> None:
    check_guardian(date(2020, 1, 10), visit_date, make_guardian())


def test_a_six_year_old_needs_no_guardian(visit_date: date) -> None:
    check_guardian(date(2019, 6, 15), visit_date, None)


def test_age_counts_from_the_birth_date_to_the_visit_date(visit_date: date) -> None:
    refusal(lambda: check_guardian(date(2019, 6, 16), visit_date, None))  # six tomorrow


def test_a_child_born_on_a_leap_day_turns_six_on_the_first_of_march() -> None:
    refusal(lambda: check_guardian(date(2020, 2, 29), date(2026, 2, 28), None))
    check_guardian(date(2020, 2, 29), date(2026, 3, 1), None)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"present_confirmed": False}, "presence"),
        ({"relationship": "neighbour"}, "relationship"),
        ({"id_number": "110101199003011231"}, "ID number"),  # check digit should be 0
        ({"name": ""}, "name"),
    ],
)
def test_an_incomplete_guardian_is_refused(
    change: dict[str, object], words: str, visit_date: date, make_guardian: Callable[..., Guardian]
) -> None:
    assert words in refusal(lambda: check_guardian(date(2021, 2, 1), visit_date, make_guardian(**change))).detail


def test_a_minor_cannot_be_the_guardian(
    visit_date: date, make_guardian: Callable[..., Guardian], resident_id: Callable[[date], str]
) -> None:
    teenager = make_guardian(id_number=resident_id(date(2010, 1, 1)), relationship="adult_sibling")
    assert "adult" in refusal(lambda: check_guardian(date(2021, 2, 1), visit_date, teenager)).detail


# PAT-02: consent --------------------------------------------------------------------------------------


def test_consent_of_an_older_version_is_refused_naming_the_new_one(make_consent: Callable[[str], object]) -> None:
    error = refusal(lambda: check_consent(make_consent("v1"), current_version="v2"))  # type: ignore[arg-type]
    assert error.rule_id == "PAT-02"
    assert "v2" in error.detail
    assert error.extra["current_version"] == "v2"


def test_no_consent_is_refused() -> None:
    assert refusal(lambda: check_consent(None, current_version="v1")).rule_id == "PAT-02"


def test_consent_of_the_current_version_is_accepted(make_consent: Callable[[str], object]) -> None:
    check_consent(make_consent("v1"), current_version="v1")  # type: ignore[arg-type]


# The whole intake -------------------------------------------------------------------------------------


def test_intake_of_a_tuberculosis_revisit_passes_with_a_report_warning(
    make_prior: MakePrior, make_consent: Callable[..., object], tables: IntakeTables, visit_date: date
) -> None:
    prior = make_prior(icd10_code="A15.0", diagnosis_name="肺结核")
    request = IntakeRequest(date(1980, 1, 1), visit_date, prior, make_consent())  # type: ignore[arg-type]
    decision = check_intake(request, tables=tables, approved_department_codes={"17"}, current_consent_version="v1")
    assert decision.infectious is not None
    assert [(f.rule_id, f.severity) for f in decision.findings] == [("REV-04", Severity.WARN)]


def test_intake_refuses_an_excluded_condition_before_judging_its_department(
    make_prior: MakePrior, make_consent: Callable[..., object], tables: IntakeTables, visit_date: date
) -> None:
    prior = make_prior(icd10_code="A00.0", diagnosis_name="霍乱")
    request = IntakeRequest(date(1980, 1, 1), visit_date, prior, make_consent())  # type: ignore[arg-type]
    error = refusal(lambda: check_intake(request, tables=tables, approved_department_codes=set(), current_consent_version="v1"))
    assert error.rule_id == "REV-03"


def test_intake_refuses_a_child_without_guardian_after_the_diagnosis_passes(
    make_prior: MakePrior, make_consent: Callable[..., object], tables: IntakeTables, visit_date: date
) -> None:
    prior = make_prior(icd10_code="J45.9", diagnosis_name="哮喘")
    request = IntakeRequest(date(2021, 1, 1), visit_date, prior, make_consent())  # type: ignore[arg-type]
    error = refusal(
        lambda: check_intake(request, tables=tables, approved_department_codes={"07"}, current_consent_version="v1")
    )
    assert error.rule_id == "REV-05"


@pytest.mark.parametrize("rule_id", ["PAT-02", "REV-01", "REV-02", "REV-03", "REV-04", "REV-05"])
def test_each_intake_requirement_has_a_registered_rule(rule_id: str) -> None:
    assert any(r.function.__module__.startswith("hospital.visits") for r in rules_for(rule_id))


# REV-04: the visit's diagnoses are the prior disease or its coded complications ---------------------------------

def test_a_record_of_the_prior_disease_or_a_coded_complication_is_related(tables: IntakeTables) -> None:
    from hospital.visits.intake.rules.eligibility import check_diagnosis_related

    check_diagnosis_related("I10", "I10", tables=tables)  # the same disease
    check_diagnosis_related("I10", "I11.9", tables=tables)  # the hypertensive group, progressing
    check_diagnosis_related("I10", "I50.9", tables=tables)  # heart failure from hypertension


def test_a_new_problem_recorded_in_a_revisit_is_refused_as_a_first_visit(tables: IntakeTables) -> None:
    from hospital.visits.intake.rules.eligibility import check_diagnosis_related

    refused = refusal(lambda: check_diagnosis_related("I10", "K29.7", tables=tables))
    assert refused.rule_id == "REV-04" and "first visit" in refused.detail
    assert refused.extra["recorded_icd10"] == "K29.7"
