"""The scenario suite (hospital/conformance/scenarios) played by the reference HTTP driver against the demo
hospital served in this process: every scenario passes; with one rule disabled in the served app exactly that
rule's scenarios fail; `hospital conformance run` reports as text, JSON and JUnit XML."""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from hospital.cli import main
from hospital.conformance import journey
from hospital.conformance.drivers import STEPS
from hospital.conformance.drivers.http import HttpDriver
from hospital.conformance.journey import play, play_all
from hospital.conformance.mutation import disabled
from hospital.conformance.requirements import read_requirements
from hospital.conformance.scenarios import Receipt, Scenario, load_scenarios, load_unplayed
from hospital.rules_index import load_all_rules
from tests.conformance.served import served_demo

SCENARIOS = load_scenarios()


class InProcessDemo(HttpDriver):
    """The reference driver on a demo served in this process, for `--driver` in the CLI test (target unused)."""

    def __init__(self, target: str) -> None:
        self._stack = ExitStack()
        client = self._stack.enter_context(served_demo(Path(tempfile.mkdtemp(prefix="conformance-run-"))))
        super().__init__(target, client=client, seed=7)

    def close(self) -> None:
        super().close()
        self._stack.close()


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpDriver]:
    with served_demo(tmp_path_factory.mktemp("conformance-demo")) as client:
        yield HttpDriver("the demo, in-process", client=client, seed=2026)


def test_every_requirement_has_a_scenario_each_way_or_a_reviewed_reason(shared_dir: Path) -> None:
    """Each requirement of ../shared/REQUIREMENTS.md has an accepted and a refused scenario, or the side no
    black-box scenario plays is listed in scenarios/unreachable.toml with its reason; an entry for a side that
    scenarios now cover is stale and fails too."""
    played = {(s.requirement, s.verdict) for s in SCENARIOS}
    unplayed = load_unplayed()
    ids = [r.id for r in read_requirements(shared_dir)]
    assert len(ids) == 40 and set(unplayed) <= set(ids)
    missing = [(rid, side) for rid in ids for side in ("accepted", "refused")
               if (rid, side) not in played and side not in (unplayed[rid].sides if rid in unplayed else ())]
    assert not missing, f"no scenario and no reviewed reason: {missing}"
    stale = [(rid, side) for rid, entry in unplayed.items() for side in entry.sides if (rid, side) in played]
    assert not stale, f"unreachable.toml lists sides that scenarios play: {stale}"
    for entry in unplayed.values():
        assert entry.kind in ("black-box", "shared-target", "not yet written") and len(entry.reason) > 40
        assert set(entry.sides) <= {"accepted", "refused"} and entry.sides
    assert all(any(s.requirement == rid for s in SCENARIOS) or set(unplayed[rid].sides) == {"accepted", "refused"}
               for rid in ids)


def test_the_suite_is_well_formed(shared_dir: Path) -> None:
    clauses = {r.id: r.clause for r in read_requirements(shared_dir)}
    rules = {f"{r.function.__module__}:{r.function.__qualname__}": r.rule_id for r in load_all_rules()}
    assert len(SCENARIOS) >= 120
    for s in SCENARIOS:
        assert re.fullmatch(r"[a-z0-9-]+", s.name)
        assert s.clause == clauses[s.requirement], f"{s.name}: the clause is not REQUIREMENTS.md's"
        assert s.until in STEPS and s.verdict in ("refused", "accepted")
        if s.verdict == "refused":
            assert s.at in STEPS and STEPS.index(s.at) <= STEPS.index(s.until)
        if s.reference_rule:
            assert rules.get(s.reference_rule) == s.rule, f"{s.name}: {s.reference_rule} does not enforce {s.rule}"
    kinds = {(s.requirement, s.verdict) for s in SCENARIOS}
    assert {"REV-01", "REV-03", "REV-05", "RX-02", "RX-03", "RX-04", "RX-06", "FACE-02"} <= {r for r, v in kinds
                                                                                           if v == "refused"}
    assert len({s.requirement for s in SCENARIOS}) >= 30
    for s in SCENARIOS:
        for receipt in s.platform:
            assert receipt.of in ("visit", "prescription", "patient", "complaint", "adverse_event", "incident"), s.name
            assert receipt.absent or receipt.fields or receipt.method == "uploadBusinessInfoAfter", s.name


@pytest.mark.parametrize("scenario", [pytest.param(s, id=s.name, marks=pytest.mark.requirement(s.requirement))
                                      for s in SCENARIOS])
def test_scenario(driver: HttpDriver, scenario: Scenario) -> None:
    result = play(driver, scenario)
    assert result.status == "passed", f"{scenario.title}\nexpected {result.expected}\ngot      {result.got}"


def test_a_target_with_one_rule_disabled_fails_exactly_that_rules_scenarios(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The journeys decide it (a refusal the broken target no longer makes); the deliveries are test_scenario's.
    monkeypatch.setenv("HOSPITAL_CONFORMANCE_PLATFORM_CHECKS", "off")
    removed = next(r for r in load_all_rules() if r.qualname.endswith("eligibility.no_specially_managed_drugs"))
    name = f"{removed.function.__module__}:{removed.function.__qualname__}"
    with served_demo(tmp_path) as client, disabled(removed):
        results = play_all(HttpDriver("a broken demo", client=client, seed=11), SCENARIOS)
    failed = {r.scenario for r in results if r.status != "passed"}
    expected = {s.name for s in SCENARIOS if s.reference_rule == name}
    assert len(expected) >= 10
    assert failed == expected
    assert all("accepted" in r.got for r in results if r.scenario in expected)


def test_the_run_command_reports_per_requirement_in_junit_json_and_text(tmp_path: Path) -> None:
    runner = CliRunner()
    driver = "tests.conformance.test_scenarios:InProcessDemo"
    junit = tmp_path / "report.xml"
    result = runner.invoke(main, ["conformance", "run", "--target", "in-process", "--driver", driver,
                                  "--only", "RX-08", "--only", "REV-04", "--format", "junit", "--output", str(junit)])
    assert result.exit_code == 0, result.output
    suites = {s.get("name"): s for s in ElementTree.parse(junit).getroot()}
    assert set(suites) == {"RX-08", "REV-04"}
    assert suites["RX-08"].get("failures") == "0" and int(suites["RX-08"].get("tests") or 0) >= 3
    result = runner.invoke(main, ["conformance", "run", "--target", "in-process", "--driver", driver,
                                  "--only", "REV-04", "--format", "json"])
    report = json.loads(result.stdout)  # the served demo's connector logs to stderr
    rev04 = sum(1 for s in SCENARIOS if s.requirement == "REV-04")
    assert rev04 >= 3
    assert report["requirements"]["REV-04"] == {"passed": rev04, "failed": 0, "not applicable": 0}


def test_a_vendors_stub_driver_is_not_applicable_not_failed() -> None:
    result = CliRunner().invoke(main, ["conformance", "run", "--target", "https://vendor.example",
                                       "--driver", "hospital.conformance.drivers.example:ExampleDriver"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last == f"0 passed, 0 failed, {len(SCENARIOS)} not applicable"


def test_a_failed_scenario_says_what_was_expected_and_what_came() -> None:
    result = CliRunner().invoke(main, ["conformance", "run", "--target", "in-process", "--only", "RX-07",
                                       "--driver", "tests.conformance.test_scenarios:EverythingAccepted"])
    assert result.exit_code == 1
    assert "expected refused at write_prescription naming RX-07" in result.output
    assert "got      accepted through write_prescription" in result.output


class EverythingAccepted(HttpDriver):
    """A hospital that refuses nothing."""

    def __init__(self, target: str) -> None:  # no HTTP at all
        self.target = target

    def close(self) -> None:
        pass

    def begin(self, scenario: str) -> None:
        pass

    def __getattribute__(self, name: str) -> object:
        from hospital.conformance.drivers import Outcome

        if name in STEPS:
            return lambda inputs: Outcome.ok()
        return super().__getattribute__(name)


def _with_platform(name: str, *receipts: Receipt) -> Scenario:
    return dataclasses.replace(next(s for s in SCENARIOS if s.name == name), platform=list(receipts))


def test_a_scenario_fails_when_the_platform_record_is_missing_or_wrong(
    driver: HttpDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the platform must receive is checked, not assumed: a wrong key field, a record the hospital never
    sends, and a record a refused act must not have produced each fail the scenario, saying what came."""
    monkeypatch.setattr(journey, "PLATFORM_WAIT", 4.0)
    right = play(driver, _with_platform("rx-06-approved-then-dispensed", Receipt(
        "uploadRecipeIndicators", "prescription", {"recipeUniqueID": "$prescription", "icdCode": "I10"})))
    assert right.status == "passed", right.got
    wrong = play(driver, _with_platform("rx-06-approved-then-dispensed", Receipt(
        "uploadRecipeIndicators", "prescription", {"recipeUniqueID": "$prescription", "icdCode": "E11.9"})))
    assert wrong.status == "failed"
    assert 'icdCode="I10" (expected E11.9)' in wrong.got
    missing = play(driver, _with_platform("rx-06-approved-then-dispensed", Receipt(
        "uploadReferralIndicators", "visit", {"bussID": "$visit"})))
    assert missing.status == "failed"
    assert "the platform holds no uploadReferralIndicators of the visit" in missing.got
    assert "nothing received" in missing.got
    # The review is refused, yet the scenario claims its record must be absent: the booking's record, which a
    # refused review leaves in place, is named absent instead, and the check sees it.
    leaked = play(driver, _with_platform("rx-06-prescriber-reviews-own", Receipt(
        "uploadAppointRecord", "visit", {"bussID": "$visit"}), Receipt("uploadAppointRecord", "visit", absent=True)))
    assert leaked.status == "failed"
    assert "the platform holds uploadAppointRecord of the visit, which it must not" in leaked.got


def test_every_act_the_platform_must_know_names_its_record() -> None:
    """Each accepted journey that reaches a booking names the records the platform must then hold; each refusal
    after the booking names the record that must not be there (hospital/conformance/scenarios: `platform`)."""
    for s in SCENARIOS:
        if s.verdict == "accepted" and STEPS.index(s.until) >= STEPS.index("book"):
            assert any(not r.absent for r in s.platform), s.name
        if s.verdict == "refused" and s.at in ("write_prescription", "review", "accept", "start"):
            assert any(r.absent for r in s.platform), s.name


def test_a_hospital_taking_only_the_liveness_challenge_is_played_not_skipped(tmp_path: Path) -> None:
    """FACE-02: where the single still image is off (production's default), the driver answers the liveness
    challenge with a burst for the doctor and the pharmacist, so the scenarios that need them run and pass."""
    wanted = {"face-02-verified-doctor-accepts", "face-02-someone-elses-face", "rx-06-approved-then-dispensed",
              "face-03-signing-with-a-fresh-verification"}
    with served_demo(tmp_path, face_single_image=False) as client:
        assert client.get("/api/me/face-verification-modes", headers=HttpDriver(
            "probe", client=client)._login("doctor.wang", "doctor-demo-2026")).json()["single_image"] is False
        results = play_all(HttpDriver("a liveness-only demo", client=client, seed=5),
                           [s for s in SCENARIOS if s.name in wanted])
    assert {r.scenario: r.status for r in results} == dict.fromkeys(wanted, "passed"), [r.got for r in results]
