from __future__ import annotations

from video_media import opus_frames, vp8_frames

from hospital.video.bitstream import is_keyframe, vp8_dimensions, vp8_is_keyframe


def test_the_first_vp8_frame_is_a_keyframe_and_the_next_are_not():
    frames = vp8_frames(3)

    assert [vp8_is_keyframe(f) for f in frames] == [True, False, False]


def test_a_vp8_keyframe_carries_the_picture_size_and_an_interframe_does_not():
    frames = vp8_frames(2, width=640, height=480)

    assert vp8_dimensions(frames[0]) == (640, 480)
    assert vp8_dimensions(frames[1]) is None


def test_truncated_or_foreign_data_is_not_taken_for_a_keyframe():
    assert not vp8_is_keyframe(b"")
    assert not vp8_is_keyframe(b"\x00" * 20)


def test_every_audio_frame_stands_alone():
    frame = opus_frames(1)[0]

    assert is_keyframe("audio", frame)
    assert not is_keyframe("video", frame)
