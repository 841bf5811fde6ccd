from __future__ import annotations

import pytest
from aiortc.mediastreams import MediaStreamError

from hospital.video.forwarding import ForwardTrack

pytestmark = pytest.mark.asyncio

KEY, INTER = True, False


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def video_track(requests: list[str], clock: Clock | None = None, max_queued: int = 60) -> ForwardTrack:
    return ForwardTrack("video", request_keyframe=lambda: requests.append("pli"), max_queued=max_queued, clock=clock or Clock())


async def test_video_waits_for_a_keyframe_and_asks_for_one():
    requests: list[str] = []
    track = video_track(requests)
    source = object()

    track.push(source, b"inter", 1000, INTER)
    track.push(source, b"key", 4000, KEY)
    track.push(source, b"inter2", 7000, INTER)

    assert requests == ["pli"]
    first, second = await track.recv(), await track.recv()
    assert bytes(first) == b"key" and bytes(second) == b"inter2"
    assert (first.pts, second.pts) == (3000, 6000)  # one timeline from the first frame seen
    assert track.dropped == 1


async def test_a_new_source_continues_the_timeline_and_starts_from_a_keyframe():
    requests: list[str] = []
    clock = Clock()
    track = video_track(requests, clock)
    first_source, second_source = object(), object()
    track.push(first_source, b"k1", 50_000, KEY)
    await track.recv()

    clock.now += 2.0  # the browser reconnected two seconds later; its timestamps restart at 0
    track.push(second_source, b"i", 0, INTER)
    track.push(second_source, b"k2", 3000, KEY)

    packet = await track.recv()
    assert bytes(packet) == b"k2"
    assert packet.pts == 2 * 90_000 + 3000  # anchored at the new source's first frame
    assert requests == ["pli"]


async def test_after_wait_for_keyframe_interframes_are_dropped_again():
    requests: list[str] = []
    track = video_track(requests)
    source = object()
    track.push(source, b"k", 0, KEY)
    await track.recv()

    track.wait_for_keyframe()
    track.push(source, b"i", 3000, INTER)
    track.push(source, b"k", 6000, KEY)

    assert bytes(await track.recv()) == b"k"
    assert requests == ["pli"]


async def test_a_full_queue_is_flushed_and_restarts_from_a_keyframe():
    requests: list[str] = []
    track = video_track(requests, max_queued=3)
    source = object()
    track.push(source, b"k", 0, KEY)
    for n in range(1, 4):
        track.push(source, b"i", n * 3000, INTER)  # the third overflows

    assert requests == ["pli"]
    track.push(source, b"k", 15000, KEY)
    assert bytes(await track.recv()) == b"k"


async def test_audio_needs_no_keyframe():
    track = ForwardTrack("audio", request_keyframe=lambda: None)
    track.push(object(), b"opus", 960, KEY)

    packet = await track.recv()
    assert bytes(packet) == b"opus" and packet.time_base.denominator == 48_000


async def test_a_stopped_track_ends_the_sender():
    track = video_track([])
    track.stop()

    with pytest.raises(MediaStreamError):
        await track.recv()
