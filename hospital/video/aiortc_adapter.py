"""The one module that reaches into aiortc's private internals, pinned to aiortc 1.16.

Why: aiortc decodes everything it receives and re-encodes everything it sends. A consultation relays the
same VP8/Opus both ways, so the hub takes the encoded frames straight from the receiver's jitter buffer,
records them as they are and hands them to the other side's sender, which already sends pre-encoded
`av.Packet`s without encoding (public `pack` path). That cuts the peer's CPU per visit several-fold
(docs/video.md). Three private hooks make it work:

1. `RTCRtpReceiver.__decoder_queue` (a `queue.Queue` fed on the event loop with `(codec, JitterFrame)`
   and drained by `decoder_worker` in a thread) is swapped, before `receive()` starts that thread, for a
   stand-in whose `put` hands the encoded frame to our sink and whose `get` only ever yields the stop
   marker. The decoder thread then idles until the receiver stops, and ends the remote track as usual.
2. `RTCRtpSender._send_keyframe` (called on PLI/FIR from the browser) is shadowed per sender instance, so a
   browser's keyframe request goes to the browser that produces the stream, not to an unused encoder.
3. `RTCRtpReceiver._send_rtcp_pli` sends that request upstream.
4. Bandwidth across the hop: `RTCRtpSender._handle_rtcp_packet` is wrapped per sender instance to see the
   receiving browser's REMB (its estimate of what it can receive), and `RTCRtpReceiver._send_rtcp` per receiver
   instance so the hospital's own REMB to the sending browser says at most that (the lower of the two legs'
   estimates governs the sender); `_RTCRtpReceiver__rtcp_ssrc` lets a lower cap be sent at once.

`check_supported()` fails loudly on any other aiortc version or when one of these names changed; the
tests in tests/unit/video/test_aiortc_adapter.py fail too. Upgrade aiortc only together with this module.
"""

from __future__ import annotations

import inspect
import logging
import queue
from collections.abc import Callable
from typing import Any

import aiortc
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc import rtcrtpreceiver as _rtcrtpreceiver
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, pack_remb_fci, unpack_remb_fci

__all__ = [
    "SUPPORTED_AIORTC_VERSIONS",
    "AiortcAdapterError",
    "BitrateCap",
    "EncodedFrameSink",
    "cap_bitrate_estimate",
    "check_supported",
    "on_bitrate_estimate",
    "on_keyframe_request",
    "request_keyframe",
    "tap_encoded_frames",
]

logger = logging.getLogger(__name__)

SUPPORTED_AIORTC_VERSIONS = ("1.16.",)

_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"
_DECODER_WORKER_PARAMS = ["loop", "input_q", "output_q", "decode_error"]
_RTCP_SSRC = "_RTCRtpReceiver__rtcp_ssrc"

# sink(codec_name, encoded_frame, timestamp): codec_name lower-case ("vp8", "opus"); timestamp in the
# codec's RTP clock, starting at 0 for the stream (aiortc's TimestampMapper has unwrapped it).
EncodedFrameSink = Callable[[str, bytes, int], None]


class AiortcAdapterError(RuntimeError):
    """The installed aiortc is not the one this adapter was written and tested against."""


def check_supported() -> None:
    """Raise AiortcAdapterError unless aiortc is 1.16.x with the private names this module uses."""
    version = getattr(aiortc, "__version__", "unknown")
    if not version.startswith(SUPPORTED_AIORTC_VERSIONS):
        raise AiortcAdapterError(
            f"aiortc {version} is not supported by hospital.video.aiortc_adapter "
            f"(pinned to {SUPPORTED_AIORTC_VERSIONS}); re-check the private hooks before upgrading"
        )
    worker = getattr(_rtcrtpreceiver, "decoder_worker", None)
    if worker is None or list(inspect.signature(worker).parameters) != _DECODER_WORKER_PARAMS:
        raise AiortcAdapterError("aiortc.rtcrtpreceiver.decoder_worker changed")
    for owner, name in ((RTCRtpReceiver, "_send_rtcp_pli"), (RTCRtpSender, "_send_keyframe"),
                        (RTCRtpReceiver, "_send_rtcp"), (RTCRtpSender, "_handle_rtcp_packet")):
        if not callable(getattr(owner, name, None)):
            raise AiortcAdapterError(f"aiortc {owner.__name__}.{name} is gone")
    try:
        init_source = inspect.getsource(RTCRtpReceiver.__init__)
    except OSError:  # installed without sources: tap_encoded_frames still checks each receiver
        return
    if "self.__decoder_queue" not in init_source or "self.__decoder_thread" not in init_source:
        raise AiortcAdapterError("aiortc RTCRtpReceiver no longer keeps a decoder queue and thread")
    if "self.__rtcp_ssrc" not in inspect.getsource(RTCRtpReceiver):
        raise AiortcAdapterError("aiortc RTCRtpReceiver no longer keeps its RTCP SSRC")


class _EncodedFrameTap:
    """Stands in for the receiver's decoder `queue.Queue`: frames go to the sink, only `None` to the thread."""

    def __init__(self, sink: EncodedFrameSink) -> None:
        self._sink = sink
        self._stop: queue.Queue[None] = queue.Queue()

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            self._stop.put(None)
            return
        codec, encoded_frame = item
        try:
            self._sink(codec.name.lower(), encoded_frame.data, encoded_frame.timestamp)
        except Exception:  # a fault in our relay must never break aiortc's RTP handling
            logger.exception("encoded frame sink failed")

    def get(self, block: bool = True, timeout: float | None = None) -> None:
        return self._stop.get(block, timeout)


def tap_encoded_frames(receiver: RTCRtpReceiver, sink: EncodedFrameSink) -> None:
    """Route the receiver's encoded frames to `sink` instead of decoding them; call before negotiation."""
    if not hasattr(receiver, _DECODER_QUEUE) or not hasattr(receiver, _DECODER_THREAD):
        raise AiortcAdapterError("RTCRtpReceiver has no decoder queue to tap")
    if getattr(receiver, _DECODER_THREAD) is not None:
        raise AiortcAdapterError("the receiver has already started decoding")
    setattr(receiver, _DECODER_QUEUE, _EncodedFrameTap(sink))


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call `callback` when the browser asks this sender for a keyframe (PLI or FIR)."""
    # An instance attribute shadows the method that RTCRtpSender._handle_rtcp_packet calls.
    sender._send_keyframe = callback  # type: ignore[method-assign]


async def request_keyframe(receiver: RTCRtpReceiver) -> bool:
    """Send a PLI for the stream this receiver gets; False when no stream has arrived yet."""
    sources = receiver.getSynchronizationSources()
    if not sources:
        return False
    newest = max(sources, key=lambda source: source.timestamp)
    await receiver._send_rtcp_pli(newest.source)
    return True


def _remb(packet: Any) -> tuple[int, list[int]] | None:
    if not isinstance(packet, RtcpPsfbPacket) or packet.fmt != RTCP_PSFB_APP:
        return None
    try:
        bitrate, ssrcs = unpack_remb_fci(packet.fci)
    except ValueError:
        return None
    return int(bitrate), list(ssrcs)


def on_bitrate_estimate(sender: RTCRtpSender, callback: Callable[[int], None]) -> None:
    """Call `callback(bits_per_s)` with each REMB the receiving browser sends for this sender's stream: what the
    browser estimates it can receive (its downlink). aiortc itself only passes it to an encoder, which a
    pass-through sender does not have."""
    original = sender._handle_rtcp_packet

    async def handle(packet: Any) -> None:
        remb = _remb(packet)
        if remb is not None and sender._ssrc in remb[1]:
            try:
                callback(remb[0])
            except Exception:  # our relay's fault must never break aiortc's RTCP handling
                logger.exception("bitrate estimate callback failed")
        await original(packet)

    sender._handle_rtcp_packet = handle  # type: ignore[method-assign]


class BitrateCap:
    """A receiver's REMB towards the browser that sends to it, capped: never above `limit` (bits/s, or None)."""

    def __init__(self, receiver: RTCRtpReceiver) -> None:
        self.receiver = receiver
        self.limit: int | None = None
        self.last_sent: int | None = None  # the last estimate the sending browser was told
        self._send = receiver._send_rtcp

        async def send(packet: Any) -> None:
            remb = _remb(packet)
            if remb is not None:
                bitrate = remb[0] if self.limit is None else min(remb[0], self.limit)
                if bitrate != remb[0]:
                    packet = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=packet.ssrc, media_ssrc=packet.media_ssrc,
                                            fci=pack_remb_fci(bitrate, remb[1]))
                self.last_sent = bitrate
            await self._send(packet)

        receiver._send_rtcp = send  # type: ignore[method-assign]

    async def lower_to(self, limit: int | None) -> None:
        """Set the cap; when it is below what the sending browser was last told, tell it now (one REMB)."""
        self.limit = limit
        if limit is None or (self.last_sent is not None and limit >= self.last_sent):
            return
        rtcp_ssrc = getattr(self.receiver, _RTCP_SSRC, None)
        sources = [source.source for source in self.receiver.getSynchronizationSources()]
        if rtcp_ssrc is None or not sources:
            return
        self.last_sent = limit
        await self._send(RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(limit, sources)))


def cap_bitrate_estimate(receiver: RTCRtpReceiver) -> BitrateCap:
    """Cap what this receiver's REMB tells the sending browser (see `BitrateCap`)."""
    return BitrateCap(receiver)
