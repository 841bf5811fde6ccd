"""Steps of a video visit over the hospital's own endpoints, shared by the call tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCSessionDescription
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from video_browsers import Browser

from tests.helpers import login_as
from tests.integration.visits.journey import accept, book, demo_prior_id, doctor_in_session, schedule_of

__all__ = ["accepted_video_visit", "booked_video_visit", "eventually", "join_call", "offer_of"]


async def booked_video_visit(client: AsyncTestClient[Any]) -> tuple[dict[str, str], str]:
    """The demo patient's video visit in the first 03.04 schedule, booked (requested)."""
    patient = await login_as(client, "patient")
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text
    return patient, str(booked.json()["visit_id"])


async def accepted_video_visit(client: AsyncTestClient[Any]) -> tuple[dict[str, str], dict[str, str], str]:
    """Patient headers, face-verified doctor headers, and the visit the doctor accepted."""
    patient, visit_id = await booked_video_visit(client)
    doctor = await doctor_in_session(client)
    accepted = await accept(client, doctor, visit_id)
    assert accepted.status_code == 200, accepted.text
    return patient, doctor, visit_id


async def offer_of(browser: Browser) -> str:
    await browser.pc.setLocalDescription(await browser.pc.createOffer())
    return str(browser.pc.localDescription.sdp)


async def join_call(client: AsyncTestClient[Any], browser: Browser, visit_id: str, headers: dict[str, str]) -> Any:
    """The browser's offer through POST /call/offer; on 200 the answer is applied."""
    response = await client.post(f"/api/visits/{visit_id}/call/offer", headers=headers,
                                 json={"type": "offer", "sdp": await offer_of(browser)})
    if response.status_code == 200:
        await browser.pc.setRemoteDescription(RTCSessionDescription(**response.json()))
    return response


async def eventually(session: AsyncSession, read: Callable[[AsyncSession], Awaitable[Any]],
                     done: Callable[[Any], bool], timeout: float = 15.0) -> Any:
    """Poll the database (each read in a fresh transaction) until `done(value)`; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read(session)
        await session.rollback()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout} s; last value: {value!r}")
        await asyncio.sleep(0.1)
