"""The in-process bus (hospital.core.events): typed events, subscribers in order, and a loud refusal unwired."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hospital.config import Settings
from hospital.context import HospitalContext, build_context
from hospital.core.events import Event, Question, Subscribers, SubscribersNotWired, ask, publish


@dataclass(frozen=True, slots=True)
class BedAssigned(Event):
    bed: int


@dataclass(frozen=True, slots=True)
class BedFree(Question[bool]):
    bed: int


SESSION: Any = object()  # subscribers receive the publisher's session untouched


@pytest.fixture
def ctx(tmp_path: Path) -> HospitalContext:
    return build_context(Settings(environment="test", data_dir=tmp_path))


async def test_publish_awaits_each_subscriber_in_order_with_the_publishers_session(ctx: HospitalContext) -> None:
    heard: list[tuple[str, Any, Any, int]] = []

    async def ward(session: Any, context: Any, event: BedAssigned) -> None:
        heard.append(("ward", session, context, event.bed))

    async def kitchen(session: Any, context: Any, event: BedAssigned) -> None:
        heard.append(("kitchen", session, context, event.bed))

    ctx.subscribers = Subscribers()
    ctx.subscribers.on(BedAssigned, ward)
    ctx.subscribers.on(BedAssigned, kitchen)
    await publish(SESSION, ctx, BedAssigned(7))
    assert heard == [("ward", SESSION, ctx, 7), ("kitchen", SESSION, ctx, 7)]
    assert ctx.subscribers.of(BedAssigned) == (ward, kitchen) and ctx.subscribers.events() == {BedAssigned}


async def test_a_subscribers_failure_reaches_the_publisher(ctx: HospitalContext) -> None:
    async def refuses(session: Any, context: Any, event: BedAssigned) -> None:
        raise LookupError("no such bed")

    ctx.subscribers = Subscribers()
    ctx.subscribers.on(BedAssigned, refuses)
    with pytest.raises(LookupError, match="no such bed"):
        await publish(SESSION, ctx, BedAssigned(1))


async def test_a_question_collects_every_answer(ctx: HospitalContext) -> None:
    async def ward(session: Any, context: Any, asked: BedFree) -> bool:
        return asked.bed != 3

    async def cleaning(session: Any, context: Any, asked: BedFree) -> bool:
        return True

    ctx.subscribers = Subscribers()
    assert await ask(SESSION, ctx, BedFree(3)) == []  # wired, and nobody answers this one
    ctx.subscribers.answer(BedFree, ward)
    ctx.subscribers.answer(BedFree, cleaning)
    assert await ask(SESSION, ctx, BedFree(3)) == [False, True]
    assert await ask(SESSION, ctx, BedFree(4)) == [True, True]


async def test_a_context_never_wired_refuses_to_publish_or_ask(ctx: HospitalContext) -> None:
    assert ctx.subscribers is None
    with pytest.raises(SubscribersNotWired, match=r"subscribers not wired \(BedAssigned .*hospital.wiring.wire"):
        await publish(SESSION, ctx, BedAssigned(7))
    with pytest.raises(SubscribersNotWired, match="BedFree"):
        await ask(SESSION, ctx, BedFree(7))
    with pytest.raises(SubscribersNotWired, match="subscribers not wired"):
        ctx.events()


def test_the_registry_refuses_a_subscriber_twice_and_events_and_questions_mixed_up() -> None:
    async def ward(session: Any, context: Any, event: Any) -> None:
        return None

    registry = Subscribers()
    registry.on(BedAssigned, ward)
    with pytest.raises(ValueError, match="already subscribed"):
        registry.on(BedAssigned, ward)
    with pytest.raises(TypeError, match="is a question"):
        registry.on(BedFree, ward)
    with pytest.raises(TypeError, match="not a question"):
        registry.answer(BedAssigned, ward)  # type: ignore[type-var]
