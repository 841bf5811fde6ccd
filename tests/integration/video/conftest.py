"""Fixtures for the video tests: loopback-only ICE, hubs that keep their events and recordings, browsers."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aioice.ice
import pytest
import pytest_asyncio
from video_browsers import Browser, Recorded

from hospital.config import Settings
from hospital.video import MediaHub, VideoSettings


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """ICE offers 127.0.0.1 only, so the tests need no network interface beyond loopback."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


@pytest_asyncio.fixture
async def make_hub(recorded: Recorded, tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[MediaHub]]]:
    """Builds hubs whose events and recordings land in `recorded`; closes them after the test."""
    hubs: list[MediaHub] = []

    async def on_event(visit_id: str, kind: str, data: dict[str, Any]) -> None:
        recorded.events.append((visit_id, kind, data))

    def store_recording(visit_id: str, role: str, path: Path, duration_s: float) -> None:
        kept = tmp_path / "kept" / f"{visit_id}-{role}.mkv"
        kept.parent.mkdir(exist_ok=True)
        shutil.copy(path, kept)
        recorded.recordings[role] = (kept, duration_s)

    async def build(**settings: Any) -> MediaHub:
        settings.setdefault("recording_dir", tmp_path / "recording")
        hub = MediaHub(on_event=on_event, store_recording=store_recording, settings=VideoSettings(**settings))
        hubs.append(hub)
        return hub

    yield build
    for hub in hubs:
        await hub.close_all()


@pytest_asyncio.fixture
async def browsers() -> AsyncIterator[Callable[..., Browser]]:
    made: list[Browser] = []

    def make(luma: int, *, with_camera: bool = True) -> Browser:
        browser = Browser(luma, with_camera=with_camera)
        made.append(browser)
        return browser

    yield make
    for browser in made:
        await browser.close()


@pytest.fixture
def call_settings() -> dict[str, Any]:
    """Settings a call test changes (override with `@pytest.mark.parametrize("call_settings", [...])`)."""
    return {}


@pytest.fixture
def settings(db_url: str, tmp_path: Path, call_settings: dict[str, Any]) -> Settings:
    """The suite's settings for the tests through the hospital's endpoints: the doctor's face sampled twice a
    second, and no pause unless a test shortens the grace."""
    video = {"video_sample_interval_s": 0.5, "video_grace_s": 600.0, **call_settings}
    return Settings(environment="test", data_dir=tmp_path / "data", database_url=db_url, login_rate_per_minute=1000,
                    **video)
