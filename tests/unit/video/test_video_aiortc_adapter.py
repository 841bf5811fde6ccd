"""The private aiortc hooks still work on the installed aiortc; these fail first when aiortc changes."""

from __future__ import annotations

import aiortc
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpDecodingParameters, RTCRtpReceiveParameters
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import RTCP_PSFB_PLI, RtcpPsfbPacket, RtpPacket
from video_media import vp8_frames

from hospital.video import aiortc_adapter

pytestmark = pytest.mark.asyncio

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90_000, payloadType=97)


def video_receiver(pc: RTCPeerConnection) -> RTCRtpReceiver:
    receiver = pc.addTransceiver("video").receiver
    receiver._track = RemoteStreamTrack(kind="video")  # as setRemoteDescription does for a received m-line
    return receiver


def rtp(sequence_number: int, timestamp: int, frame: bytes) -> RtpPacket:
    packet = RtpPacket(payload_type=97, sequence_number=sequence_number, timestamp=timestamp, ssrc=1234)
    packet.payload = b"\x10" + frame  # VP8 payload descriptor: start of partition 0
    return packet


async def test_the_installed_aiortc_is_the_pinned_version_with_the_private_names():
    aiortc_adapter.check_supported()


async def test_another_aiortc_version_is_refused(monkeypatch):
    monkeypatch.setattr(aiortc, "__version__", "1.17.0")

    with pytest.raises(aiortc_adapter.AiortcAdapterError):
        aiortc_adapter.check_supported()


async def test_a_tapped_receiver_hands_over_encoded_frames_instead_of_decoding_them():
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver = video_receiver(pc)
    sunk: list[tuple[str, bytes, int]] = []
    aiortc_adapter.tap_encoded_frames(receiver, lambda codec, frame, ts: sunk.append((codec, frame, ts)))
    await receiver.receive(
        RTCRtpReceiveParameters(codecs=[VP8], encodings=[RTCRtpDecodingParameters(ssrc=1234, payloadType=97)])
    )
    frames = vp8_frames(3)

    for n, frame in enumerate(frames):
        await receiver._handle_rtp_packet(rtp(100 + n, 5000 + 3000 * n, frame), arrival_time_ms=0)
    await receiver.stop()

    # The jitter buffer releases a frame when the next one starts; timestamps are rebased to 0.
    assert sunk == [("vp8", frames[0], 0), ("vp8", frames[1], 3000)]
    assert receiver.track.readyState == "live"  # nothing was decoded into the track …
    track = receiver.track
    assert isinstance(track, RemoteStreamTrack)
    assert await track._queue.get() is None  # … and stopping still ends it
    await pc.close()


async def test_a_tapped_receiver_cannot_be_tapped_after_it_started():
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver = video_receiver(pc)
    await receiver.receive(RTCRtpReceiveParameters(codecs=[VP8], encodings=[RTCRtpDecodingParameters(ssrc=1, payloadType=97)]))

    with pytest.raises(aiortc_adapter.AiortcAdapterError):
        aiortc_adapter.tap_encoded_frames(receiver, lambda *args: None)
    await pc.close()


async def test_a_browsers_keyframe_request_reaches_our_callback():
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sender = pc.addTransceiver("video").sender
    asked: list[str] = []
    aiortc_adapter.on_keyframe_request(sender, lambda: asked.append("pli"))

    await sender._handle_rtcp_packet(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=9, media_ssrc=sender._ssrc))

    assert asked == ["pli"]
    await pc.close()


async def test_a_keyframe_request_goes_upstream_as_a_pli_for_the_received_stream(monkeypatch):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver = video_receiver(pc)
    aiortc_adapter.tap_encoded_frames(receiver, lambda *args: None)
    sent: list[object] = []

    async def capture(packet: object) -> None:
        sent.append(packet)

    monkeypatch.setattr(receiver, "_send_rtcp", capture)
    assert not await aiortc_adapter.request_keyframe(receiver)  # nothing received yet: nobody to ask
    await receiver.receive(
        RTCRtpReceiveParameters(codecs=[VP8], encodings=[RTCRtpDecodingParameters(ssrc=1234, payloadType=97)])
    )
    await receiver._handle_rtp_packet(rtp(1, 0, vp8_frames(1)[0]), arrival_time_ms=0)

    assert await aiortc_adapter.request_keyframe(receiver)
    plis = [p for p in sent if isinstance(p, RtcpPsfbPacket) and p.fmt == RTCP_PSFB_PLI]
    assert [p.media_ssrc for p in plis] == [1234]
    await pc.close()
