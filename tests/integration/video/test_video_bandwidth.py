"""Bandwidth across the hop (issue 21): the lower of the two legs' estimates governs the sender. A patient whose
downlink is constrained (its browser's REMB says less than the hospital estimates for the doctor's uplink) lowers
the rate the doctor's browser is told it may send (REMB, which a browser's sender obeys), at once and from then
on; when the patient's connection goes, the hospital's own estimate alone governs again.

(aiortc's own estimator ramps up slowly from a few kbit/s on a fresh connection, so the constraint is set below
what the hospital estimates at that moment; aiortc's test browser clamps its encoder to at least 250 kbit/s, so
the REMB it is told is what the test reads.)"""

from __future__ import annotations

from typing import Any

import pytest
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, pack_remb_fci, unpack_remb_fci
from video_browsers import DOCTOR_LUMA, PATIENT_LUMA, Browser, always_the_doctor, wait_until

pytestmark = pytest.mark.asyncio

CONSTRAINED = 300_000


def video_sender(browser: Browser) -> Any:
    return next(s for s in browser.pc.getSenders() if s.track is not None and s.track.kind == "video")


def told(browser: Browser) -> list[int]:
    """Every REMB the hospital sends this browser for its video: the rate it is told it may send."""
    sender = video_sender(browser)
    seen: list[int] = []
    original = sender._handle_rtcp_packet

    async def handle(packet: Any) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            seen.append(unpack_remb_fci(packet.fci)[0])
        await original(packet)

    sender._handle_rtcp_packet = handle
    return seen


def constrain_downlink(browser: Browser, bits_per_s: int) -> None:
    """The browser's network receives only so much: its REMB for what it receives says `bits_per_s` at most."""
    receiver = next(r for r in browser.pc.getReceivers() if r.track is not None and r.track.kind == "video")
    original = receiver._send_rtcp

    async def send(packet: Any) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            _, ssrcs = unpack_remb_fci(packet.fci)
            packet = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=packet.ssrc, media_ssrc=0, fci=pack_remb_fci(bits_per_s, ssrcs))
        await original(packet)

    receiver._send_rtcp = send


async def test_a_constrained_patient_lowers_what_the_doctor_is_told_to_send(make_hub, browsers, recorded):
    hub = await make_hub()
    patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)
    await patient.join(hub, "visit-bw", "patient")
    await doctor.join(hub, "visit-bw", "doctor", check_face=always_the_doctor)
    doctor_told = told(doctor)
    await wait_until(lambda: len(patient.received) >= 10 and len(doctor_told) >= 3, timeout=20)
    own_estimate = doctor_told[-1]

    constrained = own_estimate // 2  # the patient's downlink: half of what the doctor's uplink could carry
    constrain_downlink(patient, constrained)
    await wait_until(lambda: hub.room("visit-bw").downlink.get("patient") == constrained, timeout=10)
    cut = len(doctor_told)
    await wait_until(lambda: len(doctor_told) >= cut + 3, timeout=15)
    assert doctor_told[cut:] and max(doctor_told[cut:]) <= constrained  # the lower leg governs
    assert len(patient.received) > 10  # the call goes on

    await patient.close()  # the constrained receiver goes: the hospital's own estimate governs again
    await wait_until(lambda: "left" in recorded.kinds(), timeout=15)
    freed = len(doctor_told)
    await wait_until(lambda: len(doctor_told) >= freed + 2, timeout=15)
    assert max(doctor_told[freed:]) > constrained
