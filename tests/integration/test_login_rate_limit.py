"""The log-in rate limit per address (SEC-01) is one allowance shared by every replica, counted in the database:
two apps on one database refuse at the same attempt as one app does, with 429, Retry-After and a problem body
naming SEC-01; the refused attempt writes nothing else (the account's failure count, its lockout, stays as it was)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.app import create_app
from hospital.config import Settings
from hospital.context import build_context
from hospital.demo import DEMO_PATIENT
from hospital.identity.models import User
from hospital.identity.service import login_hash
from hospital.wiring import wire
from tests.conftest import FakeClock
from tests.faces import RememberingFacePool

pytestmark = pytest.mark.requirement("SEC-01")

ALLOWANCE = 3


@pytest.fixture
async def replicas(settings: Settings, clock: FakeClock,
                   face_pool: RememberingFacePool) -> AsyncIterator[list[AsyncTestClient[Any]]]:
    """Two app replicas on the test's database, each with its own context (and throttle), as two processes."""
    limited = replace(settings, login_rate_per_minute=ALLOWANCE)
    clients = []
    for _ in range(2):
        context = wire(build_context(limited))
        context.clock = clock
        context.faces = face_pool
        clients.append(AsyncTestClient(app=create_app(limited, context)))
    async with clients[0] as first, clients[1] as second:
        for client in (first, second):
            client.headers["Accept-Language"] = "en"
        yield [first, second]


async def _attempt(client: AsyncTestClient[Any], username: str = "13800000000", password: str = "wrong-pass-1") -> Any:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


@pytest.mark.parametrize("spread", [1, 2], ids=["one-replica", "two-replicas"])
async def test_attempts_split_across_replicas_are_refused_at_the_same_attempt_as_on_one(
    replicas: list[AsyncTestClient[Any]], spread: int
) -> None:
    serving = itertools.cycle(replicas[:spread])
    statuses = [(await _attempt(next(serving))).status_code for _ in range(ALLOWANCE + 2)]
    assert statuses == [401] * ALLOWANCE + [429, 429]


async def test_the_refusal_is_429_with_retry_after_and_a_problem_naming_sec_01(
    replicas: list[AsyncTestClient[Any]], clock: FakeClock
) -> None:
    for client in itertools.islice(itertools.cycle(replicas), ALLOWANCE):
        assert (await _attempt(client)).status_code == 401
    refused = await _attempt(replicas[1])
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert (body["status"], body["rule_id"], body["type"]) == (429, "SEC-01", "/problems/SEC-01")
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 60 and body["retry_after"] == wait
    clock.advance(seconds=wait)  # the window is over: the address may try again, on either replica
    assert (await _attempt(replicas[0])).status_code == 401


async def test_attempts_at_once_on_both_replicas_let_exactly_the_allowance_through(
    replicas: list[AsyncTestClient[Any]]
) -> None:
    answers = await asyncio.gather(*(_attempt(replicas[i % 2], username=f"1390000000{i}") for i in range(10)))
    assert sorted(a.status_code for a in answers) == [401] * ALLOWANCE + [429] * (10 - ALLOWANCE)


async def test_a_refused_attempt_leaves_the_account_untouched_and_the_lockout_still_counts_failures(
    replicas: list[AsyncTestClient[Any]], session: AsyncSession, ctx: Any, demo: None
) -> None:
    for client in itertools.islice(itertools.cycle(replicas), ALLOWANCE):
        assert (await _attempt(client, DEMO_PATIENT.phone)).status_code == 401
    assert (await _attempt(replicas[0], DEMO_PATIENT.phone, DEMO_PATIENT.password)).status_code == 429
    user = (await session.execute(select(User).where(User.login_hash == login_hash(ctx, DEMO_PATIENT.phone)))
            ).scalar_one()
    assert (user.failed_logins, user.last_login_at) == (ALLOWANCE, None)
