from __future__ import annotations

import asyncio

import pytest

from hospital.video.handoff import BatchHandoff

pytestmark = pytest.mark.asyncio


async def test_items_reach_the_worker_together_after_the_interval():
    handoff: BatchHandoff[int] = BatchHandoff(interval_s=0.05)
    for n in range(5):
        handoff.put(n)

    await asyncio.sleep(0.1)

    assert await asyncio.to_thread(handoff.get) == [0, 1, 2, 3, 4]


async def test_a_worker_too_far_behind_gets_no_more_items():
    handoff: BatchHandoff[int] = BatchHandoff(interval_s=10, max_batches=2)
    assert handoff.put(1)
    handoff.flush()
    assert handoff.put(2)
    handoff.flush()

    assert not handoff.put(3)
    handoff.discard_backlog()
    assert handoff.put(4)


async def test_closing_hands_over_the_last_items_then_the_end():
    handoff: BatchHandoff[str] = BatchHandoff(interval_s=10)
    handoff.put("last")

    handoff.close()

    assert handoff.get() == ["last"]
    assert handoff.get() is None
    assert not handoff.put("late")
