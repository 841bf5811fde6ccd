"""One browser's connection to the hospital's media peer: negotiation, taps, outgoing tracks, keyframes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.sdp import SessionDescription, candidate_from_sdp

from hospital.core.errors import InvalidInput
from hospital.video import aiortc_adapter
from hospital.video.contracts import Role
from hospital.video.forwarding import ForwardTrack

__all__ = ["KINDS", "MediaSink", "ParticipantPeer"]

logger = logging.getLogger(__name__)

KINDS = ("audio", "video")
# Both legs must carry the same codec for frames to pass through unchanged; every WebRTC browser has VP8
# and Opus (RFC 7742, RFC 7874).
_CODECS = {"audio": ("audio/opus",), "video": ("video/vp8", "video/rtx")}

# on_media(peer, kind, codec_name, encoded_frame, timestamp), called on the event loop per received frame.
MediaSink = Callable[["ParticipantPeer", str, str, bytes, int], None]


class ParticipantPeer:
    """The hospital's RTCPeerConnection with one participant; `outbound` carries the other side's media."""

    def __init__(self, role: Role, pc: RTCPeerConnection, *, keyframe_interval_s: float) -> None:
        self.role = role
        self.pc = pc
        self.outbound: dict[str, ForwardTrack] = {}
        self._receivers: dict[str, RTCRtpReceiver] = {}
        # What this browser is told it may send us (REMB), capped by the other browser's downlink (video only).
        self.uplink_cap: aiortc_adapter.BitrateCap | None = None
        self._keyframe_interval_s = keyframe_interval_s
        self._last_keyframe_request: dict[str, float] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self.closed = False

    @classmethod
    async def answer(
        cls,
        role: Role,
        offer_sdp: str,
        *,
        configuration: RTCConfiguration,
        on_media: MediaSink,
        on_keyframe_request: Callable[[ParticipantPeer, str], None],
        on_state: Callable[[ParticipantPeer, str], None],
        max_queued: int,
        keyframe_interval_s: float,
        kinds: tuple[str, ...] = KINDS,
        on_downlink_estimate: Callable[[ParticipantPeer, int], None] | None = None,
    ) -> tuple[ParticipantPeer, str]:
        """Build the peer for `role`, apply the browser's offer and return the peer and the SDP answer.

        `kinds=("audio",)` for an audio-only visit: a camera the browser offers anyway is answered `inactive`.
        """
        pc = RTCPeerConnection(configuration)
        peer = cls(role, pc, keyframe_interval_s=keyframe_interval_s)
        try:
            for kind in kinds:
                peer._add_transceiver(kind, on_media, on_keyframe_request, max_queued, on_downlink_estimate)

            @pc.on("connectionstatechange")
            def _state_changed() -> None:
                on_state(peer, pc.connectionState)

            try:
                if not any(media.kind in kinds for media in SessionDescription.parse(offer_sdp).media):
                    # aiortc would accept it and fail only while answering
                    raise ValueError(f"it offers no {' or '.join(kinds)}")
                await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            except Exception as exc:  # aiortc raises ValueError, OperationError… on a bad or codec-less offer
                raise InvalidInput(f"the browser's offer cannot be used: {exc}") from exc
            ours = {id(t) for t in pc.getTransceivers()[: len(kinds)]}
            for transceiver in pc.getTransceivers():
                if id(transceiver) not in ours:
                    transceiver.direction = "inactive"  # extra cameras or screens are neither relayed nor decoded
            await pc.setLocalDescription(await pc.createAnswer())
        except BaseException:
            await peer.close()
            raise
        return peer, pc.localDescription.sdp

    def _add_transceiver(
        self,
        kind: str,
        on_media: MediaSink,
        on_keyframe_request: Callable[[ParticipantPeer, str], None],
        max_queued: int,
        on_downlink_estimate: Callable[[ParticipantPeer, int], None] | None = None,
    ) -> None:
        track = ForwardTrack(kind, request_keyframe=lambda: on_keyframe_request(self, kind), max_queued=max_queued)
        transceiver = self.pc.addTransceiver(track, direction="sendrecv")
        codecs = RTCRtpSender.getCapabilities(kind).codecs
        transceiver.setCodecPreferences([c for c in codecs if c.mimeType.lower() in _CODECS[kind]])
        aiortc_adapter.tap_encoded_frames(transceiver.receiver, lambda codec, frame, ts: on_media(self, kind, codec, frame, ts))
        aiortc_adapter.on_keyframe_request(transceiver.sender, lambda: on_keyframe_request(self, kind))
        if kind == "video":  # browsers estimate their receive rate for video (REMB)
            if on_downlink_estimate is not None:
                aiortc_adapter.on_bitrate_estimate(transceiver.sender, lambda bps: on_downlink_estimate(self, bps))
            self.uplink_cap = aiortc_adapter.cap_bitrate_estimate(transceiver.receiver)
        self.outbound[kind] = track
        self._receivers[kind] = transceiver.receiver

    async def add_ice_candidate(
        self, candidate: str | None, *, sdp_mid: str | None = None, sdp_mline_index: int | None = None
    ) -> None:
        """A candidate the browser trickled after its offer (`None` or "" marks the end of candidates)."""
        if not candidate:
            await self.pc.addIceCandidate(None)
            return
        line = candidate.strip().removeprefix("a=").removeprefix("candidate:")
        try:
            parsed = candidate_from_sdp(line)
        except (AssertionError, ValueError, IndexError) as exc:
            raise InvalidInput(f"not an ICE candidate: {candidate!r}") from exc
        parsed.sdpMid = sdp_mid
        # Browsers bundle everything on the first m-line's transport.
        parsed.sdpMLineIndex = 0 if sdp_mid is None and sdp_mline_index is None else sdp_mline_index
        await self.pc.addIceCandidate(parsed)

    def cap_uplink(self, bits_per_s: int | None) -> None:
        """Tell this browser to send its video at most this fast (the other side's downlink); now if lower."""
        if self.uplink_cap is None or self.closed:
            return
        task: asyncio.Task[object] = asyncio.create_task(self.uplink_cap.lower_to(bits_per_s))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def request_keyframe(self, kind: str) -> None:
        """Ask this participant's browser for a keyframe of what it sends us (rate-limited)."""
        if kind != "video" or self.closed or kind not in self._receivers:
            return
        now = time.monotonic()
        if now - self._last_keyframe_request.get(kind, -1e9) < self._keyframe_interval_s:
            return
        self._last_keyframe_request[kind] = now
        task: asyncio.Task[object] = asyncio.create_task(aiortc_adapter.request_keyframe(self._receivers[kind]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for track in self.outbound.values():
            track.stop()
        for task in list(self._tasks):
            task.cancel()
        await self.pc.close()
