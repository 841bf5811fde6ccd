"""`emit` holds every outbox event to its type's contract (hospital/contracts, SUP-02): an unknown event type, a
payload that is not its type's Payload Struct (a plain dict, another type's Struct) or a Struct that breaks its
contract is refused inside the caller's transaction, so nothing of the use case is written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from hospital.config import Settings
from hospital.contracts import EVENT_PAYLOADS, ContractViolation
from hospital.contracts.institution import DepartmentSet, ServiceStopped
from hospital.contracts.visits import RevisitRecord
from hospital.core.audit import Actor, AuditEntry, append_audit
from hospital.core.outbox import OutboxEvent, emit
from hospital.db import create_engine, session_factory
from hospital.institution.models import Department
from hospital.visits.booking.models import Visit
from tests.helpers import login_as
from tests.integration.visits.journey import book, demo_prior_id, schedule_of

pytestmark = pytest.mark.requirement("SUP-02")


async def counts(settings: Settings) -> dict[str, int]:
    engine = create_engine(settings.resolved_database_url, immediate=False)
    try:
        async with session_factory(engine)() as session:
            return {t.__tablename__: (await session.execute(select(func.count()).select_from(t))).scalar_one()
                    for t in (Department, AuditEntry, OutboxEvent, Visit)}
    finally:
        await engine.dispose()


DEPARTMENT = DepartmentSet(code="03.99", name="演练科", approved=True)


class DepartmentWithFloor(DepartmentSet, kw_only=True):
    """A payload with a field the contract does not know."""

    floor: int


# Building a Struct checks no types, and a field set to UNSET is left out of the payload: so a service can still
# hand `emit` a Struct that breaks its contract.
@pytest.mark.parametrize(("event_type", "payload", "refused"), [
    ("institution.department_renamed", DEPARTMENT, "no payload contract"),
    ("institution.department", msgspec.structs.replace(DEPARTMENT, approved=msgspec.UNSET),
     "missing required field `approved`"),
    ("institution.department", msgspec.structs.replace(DEPARTMENT, approved="yes"), "Expected `bool`"),
    ("institution.department", DepartmentWithFloor(code="03.99", name="演练科", approved=True, floor=3),
     "carries DepartmentSet, not DepartmentWithFloor"),
    ("institution.department", ServiceStopped(reason="演练", stopped_at=datetime(2026, 1, 1, tzinfo=UTC)),
     "carries DepartmentSet, not ServiceStopped"),
    ("institution.department", {"code": "03.99", "name": "演练科", "approved": True},
     "emitted as its Payload Struct, not dict"),
])
async def test_an_unknown_event_type_or_a_payload_breaking_its_contract_is_refused_and_nothing_is_written(
    settings: Settings, event_type: str, payload: Any, refused: str
) -> None:
    before = await counts(settings)
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            # A use case as a service runs it: its change, its audit entry, then its event; it would commit last.
            session.add(Department(code="03.99", name="演练科"))
            await session.flush()
            await append_audit(session, Actor.system("test"), "institution.department_set", subject_type="department",
                               subject_id="03.99")
            with pytest.raises(ContractViolation, match=refused):
                await emit(session, event_type, subject_type="department", subject_id="03.99", payload=payload)
    finally:
        await engine.dispose()
    assert await counts(settings) == before


class BookedWithChannel(RevisitRecord, kw_only=True):
    """A contract one release ahead of the visits area: `visit.booked` also names the booking channel."""

    channel: str


async def test_a_service_whose_payload_breaks_its_contract_fails_the_request_and_writes_nothing(
    client: AsyncTestClient[Any], settings: Settings, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = await login_as(client, "patient")
    schedule, prior = await schedule_of(client), await demo_prior_id(client, patient)
    before = await counts(settings)
    monkeypatch.setitem(EVENT_PAYLOADS, "visit.booked", BookedWithChannel)
    refused = await book(client, patient, schedule["schedule_id"], prior)
    assert refused.status_code == 500, refused.text
    assert refused.json()["title"] == "Event payload breaks its contract"
    assert "visit.booked carries BookedWithChannel, not RevisitRecord" in refused.json()["detail"]
    assert await counts(settings) == before
    monkeypatch.undo()
    assert (await book(client, patient, schedule["schedule_id"], prior)).status_code == 201
