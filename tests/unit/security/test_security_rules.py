"""SEC-02 rules without a database: detection patterns, one incident per finding, deadlines, the procedure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hospital.core.errors import InvalidTransition, RuleViolation
from hospital.security.detection import rules as detection_rules
from hospital.security.detection.rules import AccessFact, KnownIncident
from hospital.security.incidents import rules as incident_rules
from hospital.security.incidents.authorities import AuthorityTableError, load_authorities
from hospital.security.incidents.rules import IncidentStatus, Leak

pytestmark = pytest.mark.requirement("SEC-02")

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def reads(account: str, patients: int, *, start: datetime = T0, every: timedelta = timedelta(minutes=1),
          first_seq: int = 1) -> list[AccessFact]:
    return [AccessFact(account, f"patient-{i}", start + i * every, first_seq + i, "prescription.exported")
            for i in range(patients)]


def test_bulk_access_over_the_threshold_is_one_suspected_leak_naming_every_patient() -> None:
    found = detection_rules.detect_bulk_access(reads("doctor-a", 31), threshold=30, window=HOUR)
    assert len(found) == 1
    leak = found[0]
    assert leak.kind == "bulk_access" and leak.leak is Leak.SUSPECTED and leak.personal_information
    assert leak.account_user_id == "doctor-a" and leak.affected_subjects == 31
    assert len(leak.evidence["patients"]) == 31 and leak.first_at == T0


def test_bulk_access_at_the_threshold_or_spread_beyond_the_window_is_not_found() -> None:
    assert detection_rules.detect_bulk_access(reads("doctor-a", 30), threshold=30, window=HOUR) == []
    # 40 patients, one every 3 minutes: at most 21 in any hour
    assert detection_rules.detect_bulk_access(reads("doctor-a", 40, every=timedelta(minutes=3)), threshold=30,
                                              window=HOUR) == []
    # the same patient read again and again is one patient
    same = [AccessFact("doctor-a", "patient-1", T0 + timedelta(seconds=i), i, "x") for i in range(100)]
    assert detection_rules.detect_bulk_access(same, threshold=30, window=HOUR) == []


def test_a_burst_does_not_depend_on_where_the_scan_starts_reading() -> None:
    facts = reads("doctor-a", 50)
    whole = detection_rules.detect_bulk_access(facts, threshold=30, window=HOUR)
    later = detection_rules.detect_bulk_access(facts[10:], threshold=30, window=HOUR)
    assert len(whole) == len(later) == 1
    assert detection_rules.known_match(later[0], [known_of(whole[0])]) is not None  # overlapping: the same finding


def test_two_accounts_are_two_findings_and_two_bursts_apart_are_two() -> None:
    facts = reads("a", 31) + reads("b", 31) + reads("a", 31, start=T0 + 5 * HOUR, first_seq=100)
    found = detection_rules.detect_bulk_access(facts, threshold=30, window=HOUR)
    assert sorted((d.account_user_id, d.first_at) for d in found) == [
        ("a", T0), ("a", T0 + 5 * HOUR), ("b", T0)]


def known_of(detection: detection_rules.Detection, *, closed: bool = False, affected: int | None = None) -> KnownIncident:
    return KnownIncident("id-1", detection.fingerprint, detection.kind, detection.group, detection.first_at,
                         detection.last_at, detection.affected_subjects if affected is None else affected, closed,
                         frozenset(b["seq"] for b in detection.evidence.get("breaks", [])))


def test_the_same_finding_matches_its_incident_and_a_growing_one_is_added_to() -> None:
    first = detection_rules.detect_bulk_access(reads("a", 31), threshold=30, window=HOUR)[0]
    grown = detection_rules.detect_bulk_access(reads("a", 45), threshold=30, window=HOUR)[0]
    known = known_of(first)
    assert detection_rules.known_match(first, [known]) is known
    assert detection_rules.known_match(grown, [known]) is known and detection_rules.has_grown(grown, known)
    assert not detection_rules.has_grown(first, known)
    other = detection_rules.detect_bulk_access(reads("b", 31), threshold=30, window=HOUR)[0]
    assert detection_rules.known_match(other, [known]) is None


def test_a_burst_going_on_after_its_incident_closed_is_a_new_incident() -> None:
    first = detection_rules.detect_bulk_access(reads("a", 31), threshold=30, window=HOUR)[0]
    grown = detection_rules.detect_bulk_access(reads("a", 45), threshold=30, window=HOUR)[0]
    closed = known_of(first, closed=True)
    assert detection_rules.continues_after_close(grown, closed) and not detection_rules.has_grown(grown, closed)
    assert not detection_rules.continues_after_close(first, closed)


def test_credential_stuffing_is_failures_to_many_accounts_from_one_address() -> None:
    failures = [AccessFact("203.0.113.9", f"user-{i}", T0 + timedelta(seconds=10 * i), i, "login.failed")
                for i in range(11)]
    found = detection_rules.detect_credential_stuffing(failures, threshold=10, window=timedelta(minutes=10))
    assert [(d.kind, d.client_address, d.affected_subjects, d.leak) for d in found] == [
        ("credential_stuffing", "203.0.113.9", 11, Leak.NONE)]
    one_account = [AccessFact("203.0.113.9", "user-1", T0 + timedelta(seconds=i), i, "login.failed") for i in range(50)]
    assert detection_rules.detect_credential_stuffing(one_account, threshold=10, window=timedelta(minutes=10)) == []


def test_audit_tampering_is_found_once_per_break() -> None:
    found = detection_rules.detect_audit_tampering([(7, "edited"), (9, "edited")], known_seqs=[], now=T0)
    assert found is not None and found.kind == "audit_tampering" and found.severity == "critical"
    assert found.fingerprint == "audit_tampering:7" and [b["seq"] for b in found.evidence["breaks"]] == [7, 9]
    assert detection_rules.detect_audit_tampering([(7, "edited"), (9, "edited")], known_seqs=[7, 9], now=T0) is None
    later = detection_rules.detect_audit_tampering([(7, "edited"), (12, "deleted")], known_seqs=[7, 9], now=T0)
    assert later is not None and [b["seq"] for b in later.evidence["breaks"]] == [12]


def test_a_face_lockout_is_one_low_incident_per_lock() -> None:
    locks = [detection_rules.LockoutFact("audit-1", "doctor-a", T0),
             detection_rules.LockoutFact("audit-2", "doctor-a", T0 + HOUR)]
    found = detection_rules.detect_face_lockouts(locks)
    assert [(d.fingerprint, d.severity, d.account_user_id) for d in found] == [
        ("face_lockout:audit-1", "low", "doctor-a"), ("face_lockout:audit-2", "low", "doctor-a")]


def test_the_report_deadline_runs_from_when_a_leak_is_known_and_shows_overdue() -> None:
    assert incident_rules.report_deadline(Leak.NONE, T0, 1) is None
    due = incident_rules.report_deadline(Leak.SUSPECTED, T0, 1)
    assert due == T0 + HOUR
    assert not incident_rules.is_overdue(due, None, T0 + timedelta(minutes=59))
    assert incident_rules.is_overdue(due, None, T0 + timedelta(minutes=61))
    assert not incident_rules.is_overdue(due, T0 + 2 * HOUR, T0 + 3 * HOUR)  # reported (late): no longer overdue


def test_the_authorities_a_leak_is_reported_to() -> None:
    table = load_authorities()
    assert {a.code for a in table} >= {"health", "cyberspace", "police"}
    assert [a.code for a in incident_rules.required_authorities(Leak.NONE, True, table)] == []
    assert [a.code for a in incident_rules.required_authorities(Leak.CONFIRMED, False, table)] == ["health"]
    assert sorted(a.code for a in incident_rules.required_authorities(Leak.SUSPECTED, True, table)) == [
        "cyberspace", "health", "police"]
    assert next(a for a in table if a.code == "health").name_zh == "卫生健康行政部门"


def test_the_authorities_table_refuses_a_malformed_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "authorities.csv"
    bad.write_text("code,name_zh,name_en,reported_when,source\nhealth,卫健,health,sometimes,PD 11\n", encoding="utf-8")
    with pytest.raises(AuthorityTableError, match=r"authorities\.csv:2"):
        load_authorities(bad)


def test_a_leak_closes_only_contained_and_reported_and_reviewed() -> None:
    review = "an export script was left open; removed and staff retrained"
    with pytest.raises(RuleViolation) as unreported:
        incident_rules.check_close("contained", Leak.CONFIRMED, True, ["health"], review)
    assert unreported.value.rule_id == "SEC-02" and "health" in unreported.value.detail
    with pytest.raises(RuleViolation, match="contained"):
        incident_rules.check_close("open", Leak.NONE, False, [], review)
    with pytest.raises(RuleViolation, match="review"):
        incident_rules.check_close("contained", Leak.NONE, True, [], "ok")
    with pytest.raises(InvalidTransition):
        incident_rules.check_close("closed", Leak.NONE, True, [], review)
    incident_rules.check_close("reported", Leak.CONFIRMED, True, [], review)
    incident_rules.check_close("contained", Leak.NONE, True, [], review)  # no leak: nothing to report


def test_the_stage_is_the_furthest_reached_in_order() -> None:
    assert incident_rules.stage_of(contained=False, reporting_required=True, reports_complete=True,
                                   closed=False) is IncidentStatus.OPEN
    assert incident_rules.stage_of(contained=True, reporting_required=True, reports_complete=False,
                                   closed=False) is IncidentStatus.CONTAINED
    assert incident_rules.stage_of(contained=True, reporting_required=True, reports_complete=True,
                                   closed=False) is IncidentStatus.REPORTED
    assert incident_rules.stage_of(contained=True, reporting_required=False, reports_complete=True,
                                   closed=False) is IncidentStatus.CONTAINED


def test_reports_name_known_authorities_a_time_not_in_the_future_and_a_reference() -> None:
    table = load_authorities()
    assert incident_rules.check_report("open", ["health", "health", "police"], table, T0, T0, "沪卫信〔2026〕1号") == (
        "health", "police")
    for codes, at, reference in ((["mayor"], T0, "x"), ([], T0, "x"), (["health"], T0 + HOUR, "x"),
                                 (["health"], T0, " ")):
        with pytest.raises(RuleViolation):
            incident_rules.check_report("open", codes, table, at, T0, reference)


def test_account_actions_never_on_ones_own_account_and_never_twice() -> None:
    with pytest.raises(RuleViolation, match="own account"):
        incident_rules.check_account_action("suspend_account", "admin-1", "admin-1", False, "open")
    with pytest.raises(InvalidTransition):
        incident_rules.check_account_action("suspend_account", "admin-1", "doctor-a", True, "open")
    with pytest.raises(InvalidTransition):
        incident_rules.check_account_action("restore_account", "admin-1", "doctor-a", False, "open")
    with pytest.raises(RuleViolation, match="name the account"):
        incident_rules.check_account_action("suspend_account", "admin-1", None, False, "open")
    incident_rules.check_account_action("restore_account", "admin-1", "doctor-a", True, "closed")  # never left locked for good
    with pytest.raises(InvalidTransition):
        incident_rules.check_account_action("suspend_account", "admin-1", "doctor-a", False, "closed")


def test_a_reported_leak_cannot_be_ruled_out_afterwards() -> None:
    with pytest.raises(RuleViolation, match="already reported"):
        incident_rules.check_assessment("contained", "none", True, "turned out to be a test account")
    assert incident_rules.check_assessment("open", "none", False, "the reads were the quarterly audit") is Leak.NONE


def test_the_thresholds_come_from_the_environment_and_must_be_positive() -> None:
    from hospital.config import ConfigurationError, load_settings

    loaded = load_settings({"HOSPITAL_SECURITY_BULK_ACCESS_PATIENTS": "50", "HOSPITAL_SECURITY_REPORT_HOURS": "0.5"})
    assert loaded.security_bulk_access_patients == 50 and loaded.security_report_hours == 0.5
    assert loaded.security_scan_interval_seconds == 600  # `hospital serve` scans by default
    with pytest.raises(ConfigurationError, match="SEC-02"):
        load_settings({"HOSPITAL_SECURITY_REPORT_HOURS": "0"}).check()
