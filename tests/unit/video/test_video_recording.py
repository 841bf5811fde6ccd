from __future__ import annotations

import av
import pytest
from video_media import opus_frames, vp8_frames

from hospital.video.recording import GAP_TITLE, ParticipantRecording

pytestmark = [pytest.mark.asyncio, pytest.mark.requirement("REC-02")]


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def timeline(path) -> dict[str, list[float]]:
    """Presentation times in seconds of each stream's packets, as a player would see them."""
    times: dict[str, list[float]] = {}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.pts is not None:
                times.setdefault(packet.stream.type, []).append(float(packet.pts * packet.time_base))
    return times


async def test_audio_and_video_share_one_timeline_from_their_arrival(tmp_path):
    clock, source = Clock(), object()
    recording = ParticipantRecording(tmp_path / "r.mkv", clock=clock)
    audio, video = opus_frames(100), vp8_frames(30)
    # Audio for 2 s from the start; video from 0.5 s; each stream with its own RTP timestamp origin.
    arrivals = [(0.02 * n, "audio", audio[n], 777 + 960 * n) for n in range(100)]
    arrivals += [(0.5 + n / 15, "video", video[n], 123_000 + 6000 * n) for n in range(23)]
    start = clock.now
    for at, kind, frame, timestamp in sorted(arrivals, key=lambda a: a[0]):
        clock.now = start + at
        recording.add(kind, source, frame, timestamp)

    result = await recording.finish()

    times = timeline(result.path)
    assert times["audio"][0] == 0.0
    assert times["video"][0] == pytest.approx(0.5, abs=0.03)
    assert times["video"][1] - times["video"][0] == pytest.approx(1 / 15, abs=0.002)
    assert result.duration_s == pytest.approx(2.0, abs=0.05)
    with av.open(str(result.path)) as container:
        assert len(list(container.decode(video=0))) == result.video_frames


async def test_interframes_before_the_first_keyframe_are_left_out(tmp_path):
    clock, source = Clock(), object()
    recording = ParticipantRecording(tmp_path / "r.mkv", clock=clock)
    video = vp8_frames(6)

    for n, frame in enumerate(video[1:3] + video[:1] + video[1:3]):
        clock.now += 1 / 15
        recording.add("video", source, frame, 6000 * n)
    result = await recording.finish()

    assert result.video_frames == 3
    assert result.lost_frames == 2


async def test_a_reconnected_participant_continues_in_the_same_file_after_the_gap(tmp_path):
    clock = Clock()
    recording = ParticipantRecording(tmp_path / "r.mkv", clock=clock)
    first, second = object(), object()
    video = vp8_frames(10)
    for n in range(5):
        recording.add("video", first, video[n], 90_000 + 6000 * n)
        clock.now += 1 / 15
    clock.now += 3.0  # the browser was gone for three seconds; its new stream starts again at 0
    again = vp8_frames(5)
    for n in range(5):
        recording.add("video", second, again[n], 6000 * n)
        clock.now += 1 / 15

    result = await recording.finish()

    times = timeline(result.path)["video"]
    assert len(times) == 10
    assert times[5] - times[4] == pytest.approx(3.0 + 1 / 15, abs=0.01)
    with av.open(str(result.path)) as container:
        assert len(list(container.decode(video=0))) == 10
        chapters = container.chapters()
    # The time away is marked: in the result and as a chapter titled "gap" in the file itself.
    [(start, end)] = result.gaps
    assert start == pytest.approx(times[4], abs=0.01) and end == pytest.approx(times[5], abs=0.01)
    [chapter] = chapters
    assert chapter["metadata"]["title"] == GAP_TITLE
    assert float(chapter["start"] * chapter["time_base"]) == pytest.approx(times[4], abs=0.01)
    assert float(chapter["end"] * chapter["time_base"]) == pytest.approx(times[5], abs=0.01)


async def test_a_recording_without_pauses_has_no_gap(tmp_path):
    clock, source = Clock(), object()
    recording = ParticipantRecording(tmp_path / "r.mkv", clock=clock)
    for n, frame in enumerate(opus_frames(150)):  # 3 s of steady audio, jitter below the gap threshold
        recording.add("audio", source, frame, 960 * n)
        clock.now += 0.02
    result = await recording.finish()
    assert result.gaps == ()
    with av.open(str(result.path)) as container:
        assert container.chapters() == []


async def test_an_audio_visit_is_recorded_without_a_video_stream_however_long(tmp_path):
    clock, source = Clock(), object()
    recording = ParticipantRecording(tmp_path / "r.mka", clock=clock, audio_only=True)
    audio = opus_frames(50)
    for n in range(600):  # 12 s: longer than the 10 s a video recording waits for a first keyframe
        recording.add("audio", source, audio[n % 50], 960 * n)
        clock.now += 0.02
    recording.add("video", source, vp8_frames(1)[0], 0)  # a camera in an audio visit is not recorded
    result = await recording.finish()
    with av.open(str(result.path)) as container:
        assert [s.type for s in container.streams] == ["audio"]
    assert result.audio_frames == 600 and result.video_frames == 0


async def test_a_participant_without_a_camera_is_recorded_with_sound_only(tmp_path):
    clock, source = Clock(), object()
    recording = ParticipantRecording(tmp_path / "r.mkv", clock=clock)
    for n, frame in enumerate(opus_frames(50)):
        recording.add("audio", source, frame, 960 * n)
        clock.now += 0.02

    result = await recording.finish()

    with av.open(str(result.path)) as container:
        assert [s.type for s in container.streams] == ["audio"]
        assert len(list(container.decode(audio=0))) == 50
    assert result.duration_s == pytest.approx(1.0, abs=0.03)


async def test_finishing_twice_gives_the_same_result_and_later_frames_are_ignored(tmp_path):
    recording = ParticipantRecording(tmp_path / "r.mkv", clock=Clock())
    recording.add("video", object(), vp8_frames(1)[0], 0)

    first = await recording.finish()
    recording.add("video", object(), vp8_frames(1)[0], 6000)

    assert await recording.finish() is first
    assert first.video_frames == 1
