"""Facts read from encoded frames without decoding them: is it a keyframe, what size is the picture.

Only VP8 (RFC 6386 §9.1) is parsed: the hub negotiates VP8 on both legs so frames pass through unchanged.
"""

from __future__ import annotations

__all__ = ["MEDIA_CLOCK_RATE", "is_keyframe", "vp8_dimensions", "vp8_is_keyframe"]

# RTP clock rates of the codecs the hub negotiates (RFC 7741 VP8, RFC 7587 Opus).
MEDIA_CLOCK_RATE = {"video": 90_000, "audio": 48_000}

_VP8_START_CODE = b"\x9d\x01\x2a"


def vp8_is_keyframe(frame: bytes) -> bool:
    """True when the VP8 frame is a keyframe (P bit clear and the start code present)."""
    return len(frame) >= 10 and not frame[0] & 0x01 and frame[3:6] == _VP8_START_CODE


def vp8_dimensions(frame: bytes) -> tuple[int, int] | None:
    """Width and height carried by a VP8 keyframe, or None for an interframe."""
    if not vp8_is_keyframe(frame):
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return width, height


def is_keyframe(kind: str, frame: bytes) -> bool:
    """Audio frames all stand alone; a video frame does when it is a VP8 keyframe."""
    return kind == "audio" or vp8_is_keyframe(frame)
