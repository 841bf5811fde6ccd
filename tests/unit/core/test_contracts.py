"""The typed event contracts (hospital/contracts, SUP-02): one Payload per event type, checked field by field
when an event is emitted, with its sensitive fields sealed by the contract itself (REC-03)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import msgspec
import pytest

from hospital.contracts import EVENT_PAYLOADS, ContractViolation, Payload, conform
from hospital.contracts.quality import RatingSubmitted
from hospital.contracts.staff import StaffRecord
from hospital.contracts.visits import RevisitRecord, VisitAccepted
from tests import payloads

pytestmark = pytest.mark.requirement("SUP-02")

AT = datetime(2024, 6, 12, 1, 10, tzinfo=UTC)
DOCS = Path(__file__).resolve().parents[3] / "docs" / "connector.md"


def rating() -> dict[str, object]:
    """A rating as a dict (the connector reads stored payloads back as dicts), holding values JSON does not."""
    return {"rating_id": uuid.uuid4(), "visit_id": str(uuid.uuid4()), "doctor_user_id": str(uuid.uuid4()),
            "department_code": "03.03", "score": 5, "comment": "很好", "rated_at": AT}


def test_a_dict_payload_is_conformed_to_its_event_types_struct() -> None:
    found = conform("rating.submitted", rating())
    assert isinstance(found, RatingSubmitted) and found.rated_at == AT and found.rating_id.count("-") == 4


@pytest.mark.parametrize(("change", "refused"), [
    ({"score": None}, "Expected `int`"),
    ({"score": 9}, "<= 5"),
    ({"stars": 5}, "unknown field `stars`"),
    ({"rated_at": "2024-06-12T09:10:00"}, "timezone"),
])
def test_a_mistyped_unknown_or_naive_field_is_refused_naming_it(change: dict[str, object], refused: str) -> None:
    with pytest.raises(ContractViolation, match=refused):
        conform("rating.submitted", {**rating(), **change})


def test_a_missing_field_an_unknown_event_type_and_another_events_struct_are_refused() -> None:
    incomplete = rating()
    del incomplete["visit_id"]
    with pytest.raises(ContractViolation, match="missing required field `visit_id`"):
        conform("rating.submitted", incomplete)
    with pytest.raises(ContractViolation, match=r"no payload contract for event type 'rating\.changed'"):
        conform("rating.changed", rating())
    accepted = VisitAccepted(**msgspec.structs.asdict(payloads.revisit_record("v", "p", "d", AT)),
                             practice_session_id="s", face_verified_at=AT)
    assert conform("visit.accepted", accepted) == accepted
    with pytest.raises(ContractViolation, match="carries RevisitRecord, not VisitAccepted"):
        conform("visit.completed", accepted)


def test_a_struct_is_checked_too_since_building_one_checks_no_types() -> None:
    built = payloads.staff_record("s-1")
    assert conform("staff.record", built) == built
    built.birth_date = "1980-13-45"  # type: ignore[assignment]
    with pytest.raises(ContractViolation, match="birth_date"):
        conform("staff.record", built)


def test_every_sealed_field_is_a_field_of_its_payload() -> None:
    for event_type, kind in EVENT_PAYLOADS.items():
        fields = set(kind.__struct_fields__)
        assert set(kind.SEALED) <= fields, (event_type, set(kind.SEALED) - fields)
    assert StaffRecord.SEALED == ("id_number",) and "patient_id_number" in RevisitRecord.SEALED


def test_every_payload_refuses_unknown_fields() -> None:
    for kind in {*EVENT_PAYLOADS.values()}:
        assert issubclass(kind, Payload) and kind.__struct_config__.forbid_unknown_fields, kind


def test_the_event_table_of_the_connector_docs_names_exactly_the_contracted_event_types() -> None:
    """docs/connector.md's table is the catalogue operators read: every event type, and nothing else."""
    table = DOCS.read_text(encoding="utf-8").split("| event (subject) |", 1)[1].split("\n\n", 1)[0]
    named = {name for row in table.splitlines() if row.startswith("| `")
             for name in re.findall(r"`([a-z_]+\.[a-z_]+)`", row.split("|")[1])}
    prefixed = {f"{first.rsplit('.', 1)[0]}.{second}" for row in table.splitlines() if row.startswith("| `")
                for first, second in re.findall(r"`([a-z_]+\.[a-z_]+)` / `([a-z_]+)`", row.split("|")[1])}
    assert named | prefixed == set(EVENT_PAYLOADS)


def test_the_emitting_services_name_only_contracted_event_types() -> None:
    """A literal event type in any `emit(` of the areas or the connector has a contract (f-strings are checked
    by the tests that run them)."""
    root = Path(__file__).resolve().parents[3]
    emitted = {m for folder in ("hospital", "connectors") for path in (root / folder).rglob("*.py")
               for m in re.findall(r"emit\(\s*session,\s*\"([a-z_]+\.[a-z_]+)\"", path.read_text(encoding="utf-8"))}
    assert emitted and emitted <= set(EVENT_PAYLOADS), emitted - set(EVENT_PAYLOADS)


def test_dates_and_times_come_back_typed() -> None:
    stored = msgspec.to_builtins(payloads.revisit_record("v", "p", "d", AT))
    assert stored["booked_at"] == "2024-06-11T01:10:00Z" and stored["prior_diagnosis"]["diagnosed_on"] == "2024-03-14"
    again = conform("visit.completed", stored)
    assert again.booked_at == datetime(2024, 6, 11, 1, 10, tzinfo=UTC)
    assert again.prior_diagnosis.diagnosed_on == date(2024, 3, 14)
