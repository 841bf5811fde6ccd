"""What two people do at the same moment (RX-06, RX-08): one review wins, one dispensing wins.

The two use cases run truly in parallel, each in its own session (litestar's test client would queue the two
HTTP requests). On PostgreSQL both read the prescription before either writes, and the conditional UPDATE on
the version decides; on SQLite the second waits behind the first's IMMEDIATE transaction. Either way exactly
one succeeds and the other is refused with a 409 error (Conflict or InvalidTransition).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import select

from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.core.audit import Actor
from hospital.core.errors import Conflict, HospitalError, InvalidTransition
from hospital.core.outbox import OutboxEvent
from hospital.core.problems import status_for
from hospital.db import create_engine, session_factory
from hospital.identity.tokens import Principal
from hospital.prescriptions.dispensing import service as dispensing_service
from hospital.prescriptions.models import Dispensing, PrescriptionReview
from hospital.prescriptions.review import service as review_service
from hospital.signing.service import DeviceSignature
from hospital.visits.booking.models import Visit
from tests.helpers import count_rows
from tests.integration.prescriptions.conftest import reviewing_pharmacist, second_pharmacist
from tests.integration.prescriptions.helpers import approved, written
from tests.signing import device_signed, signing_device

pytestmark = pytest.mark.requirement("RX-06", "RX-08")


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.resolved_database_url)
    yield session_factory(engine)
    await engine.dispose()


def principal(ctx: HospitalContext, headers: dict[str, str]) -> Principal:
    return ctx.tokens.decode(headers["Authorization"].removeprefix("Bearer "))


async def in_session(sessions: async_sessionmaker[AsyncSession],
                     act: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    async with sessions() as session:
        return await act(session)


async def device_of(client: AsyncTestClient[Any], headers: dict[str, str]) -> str:
    device = await signing_device(client, headers)
    assert device is not None
    return device


async def at_once(sessions: async_sessionmaker[AsyncSession],
                  *acts: Callable[[AsyncSession], Awaitable[Any]]) -> tuple[list[Any], list[HospitalError]]:
    """Run each act in its own session, all at the same moment; (results, refusals)."""
    async def run(act: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        async with sessions() as session:
            return await act(session)

    outcomes = await asyncio.gather(*(run(act) for act in acts), return_exceptions=True)
    unexpected = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, HospitalError)]
    assert not unexpected, unexpected
    return ([o for o in outcomes if not isinstance(o, BaseException)],
            [o for o in outcomes if isinstance(o, HospitalError)])


async def test_two_pharmacists_approving_at_once_one_wins_and_the_other_gets_409(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, visit: Visit,
    sessions: async_sessionmaker[AsyncSession]
) -> None:
    rx_id = uuid.UUID((await written(client, visit))["prescription_id"])
    li_headers, zhao_headers = await reviewing_pharmacist(client), await second_pharmacist(client)
    li, zhao = principal(ctx, li_headers), principal(ctx, zhao_headers)
    signatures = {p.user_id: await device_signed(lambda sig, p=p: in_session(sessions, lambda s: (
        review_service.review_prescription(s, ctx, Actor(p.user_id, p.role), p, rx_id, "approve", [], signature=sig))),
        await device_of(client, h)) for p, h in ((li, li_headers), (zhao, zhao_headers))}
    won, lost = await at_once(sessions, *(
        lambda s, p=p: review_service.review_prescription(s, ctx, Actor(p.user_id, p.role), p, rx_id, "approve", [],
                                                          signature=signatures[p.user_id])
        for p in (li, zhao)))
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], Conflict | InvalidTransition) and status_for(lost[0]) == 409
    assert await count_rows(session, PrescriptionReview) == {"prescription_review": 1}
    events = (await session.execute(select(OutboxEvent).where(
        OutboxEvent.event_type == "prescription.approved"))).scalars().all()
    assert len(events) == 1 and events[0].payload["review_id"] == str(won[0].id)


async def test_approve_and_reject_at_once_leave_exactly_one_decision(
    client: AsyncTestClient[Any], ctx: HospitalContext, visit: Visit, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rx_id = uuid.UUID((await written(client, visit))["prescription_id"])
    li_headers, zhao_headers = await reviewing_pharmacist(client), await second_pharmacist(client)
    li, zhao = principal(ctx, li_headers), principal(ctx, zhao_headers)

    def approve(s: AsyncSession, sig: DeviceSignature) -> Awaitable[Any]:
        return review_service.review_prescription(s, ctx, Actor(li.user_id, li.role), li, rx_id, "approve", [],
                                                  signature=sig)

    def reject(s: AsyncSession, sig: DeviceSignature) -> Awaitable[Any]:
        return review_service.review_prescription(s, ctx, Actor(zhao.user_id, zhao.role), zhao, rx_id, "reject",
                                                  ["剂量偏大"], reason_codes=["us_usage_dose"], signature=sig)

    li_sig = await device_signed(lambda sig: in_session(sessions, lambda s: approve(s, sig)),
                                 await device_of(client, li_headers))
    zhao_sig = await device_signed(lambda sig: in_session(sessions, lambda s: reject(s, sig)),
                                   await device_of(client, zhao_headers))
    won, lost = await at_once(sessions, lambda s: approve(s, li_sig), lambda s: reject(s, zhao_sig))
    assert len(won) == 1 and len(lost) == 1 and status_for(lost[0]) == 409
    # Read by the pharmacist who decided: a decided prescription is no longer in the other's queue (RX-07 scope).
    decider = li_headers if won[0].pharmacist_user_id == li.user_id else zhao_headers
    final = (await client.get(f"/api/prescriptions/{rx_id}", headers=decider)).json()
    assert final["review"]["decision"] == won[0].decision


async def test_two_dispensings_at_once_dispense_once(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, visit: Visit,
    sessions: async_sessionmaker[AsyncSession]
) -> None:
    rx, li_headers = await approved(client, visit)
    rx_id = uuid.UUID(rx["prescription_id"])
    li, zhao = principal(ctx, li_headers), principal(ctx, await second_pharmacist(client))
    won, lost = await at_once(sessions, *(
        lambda s, p=p: dispensing_service.dispense(s, ctx, Actor(p.user_id, p.role), p, rx_id, "own", None)
        for p in (li, zhao)))
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], Conflict) and lost[0].extra["rule_id"] == "RX-08"
    assert await count_rows(session, Dispensing) == {"dispensing": 1}
