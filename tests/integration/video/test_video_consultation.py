"""Two in-process browsers (patient, doctor) hold a consultation through the hospital's media peer."""

from __future__ import annotations

import asyncio

import av
import pytest
from aiortc import RTCSessionDescription
from video_browsers import DOCTOR_LUMA, FPS, PATIENT_LUMA, always_the_doctor, wait_until

from hospital.core.errors import InvalidInput

pytestmark = [pytest.mark.asyncio, pytest.mark.requirement("REC-02")]


async def test_each_side_receives_the_other_sides_frames(make_hub, browsers, recorded):
    hub = await make_hub()
    patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)
    await patient.join(hub, "visit-1", "patient")
    await doctor.join(hub, "visit-1", "doctor", check_face=always_the_doctor)

    await wait_until(lambda: len(patient.received) >= 20 and len(doctor.received) >= 20)

    assert {abs(luma - DOCTOR_LUMA) < 25 for _, luma, _ in patient.received} == {True}
    assert {abs(luma - PATIENT_LUMA) < 25 for _, luma, _ in doctor.received} == {True}
    numbers = [number for number, _, _ in patient.received]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) >= 0.9 * (numbers[-1] - numbers[0] + 1)  # next to nothing lost on loopback
    assert doctor.audio_frames > 0 and patient.audio_frames > 0
    assert recorded.of("joined") == [
        {"role": "patient", "rejoined": False, "paused": False},
        {"role": "doctor", "rejoined": False, "paused": False},
    ]


async def test_each_participant_is_recorded_with_audio_video_and_duration(make_hub, browsers, recorded):
    hub = await make_hub()
    patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)
    await patient.join(hub, "visit-2", "patient")
    await doctor.join(hub, "visit-2", "doctor", check_face=always_the_doctor)
    await wait_until(lambda: len(patient.received) >= 1 and len(doctor.received) >= 1)
    await asyncio.sleep(3.0)

    await hub.close_all()

    assert set(recorded.recordings) == {"patient", "doctor"}
    for role, luma in (("patient", PATIENT_LUMA), ("doctor", DOCTOR_LUMA)):
        path, duration_s = recorded.recordings[role]
        with av.open(str(path)) as container:
            assert [s.type for s in container.streams] == ["video", "audio"]
            pictures = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
        with av.open(str(path)) as container:
            sounds = list(container.decode(audio=0))
        assert 3.0 <= duration_s <= 6.0
        assert abs(len(pictures) - duration_s * FPS) <= 0.15 * duration_s * FPS
        assert abs(int(pictures[-1][120, 160]) - luma) < 25  # the participant's own picture, not the other's
        assert abs(len(sounds) * 0.02 - duration_s) < 0.5
    finished = recorded.of("recording_finished")
    assert sorted(d["role"] for d in finished) == ["doctor", "patient"]
    assert all(d["stored"] for d in finished)
    assert not list((hub.settings.recording_dir or path.parent).glob("*.mkv"))  # temp files handed over


async def test_a_rejoining_doctor_replaces_the_old_connection(make_hub, browsers, recorded):
    hub = await make_hub()
    patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)
    await patient.join(hub, "visit-3", "patient")
    await doctor.join(hub, "visit-3", "doctor", check_face=always_the_doctor)
    await wait_until(lambda: len(patient.received) >= 5)
    old_peer = hub.room("visit-3").participants["doctor"]

    doctor_again = browsers(130)
    await doctor_again.join(hub, "visit-3", "doctor")
    await wait_until(lambda: any(abs(luma - 130) < 25 for _, luma, _ in patient.received))

    assert old_peer.pc.connectionState == "closed"
    assert hub.room("visit-3").participants["doctor"] is not old_peer
    assert recorded.of("joined")[-1] == {"role": "doctor", "rejoined": True, "paused": False}
    assert "left" not in recorded.kinds()
    await hub.close_all()
    assert [d["role"] for d in recorded.of("recording_finished")].count("doctor") == 1


async def test_a_browser_that_goes_away_leaves_the_room(make_hub, browsers, recorded):
    hub = await make_hub(rejoin_window_s=1.0)
    patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)
    await patient.join(hub, "visit-4", "patient")
    await doctor.join(hub, "visit-4", "doctor", check_face=always_the_doctor)
    await wait_until(lambda: len(doctor.received) >= 5)

    await patient.close()
    await wait_until(lambda: "left" in recorded.kinds())

    assert recorded.of("left") == [{"role": "patient", "reason": "connection closed", "rejoin_window_s": 1.0}]
    assert "patient" not in hub.room("visit-4").participants
    # The recording waits for a rejoin for the window, then is finished and handed over.
    await wait_until(lambda: "recording_finished" in recorded.kinds())
    assert [d["role"] for d in recorded.of("recording_finished")] == ["patient"]
    assert recorded.of("recording_finished")[0]["gaps"] == []


async def test_a_browser_whose_connection_dropped_rejoins_into_the_same_recording_with_the_gap_marked(
        make_hub, browsers, recorded):
    hub = await make_hub()
    patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)
    await patient.join(hub, "visit-7", "patient")
    await doctor.join(hub, "visit-7", "doctor", check_face=always_the_doctor)
    await wait_until(lambda: len(doctor.received) >= 5 and len(patient.received) >= 5)

    await patient.close()  # the patient's network is gone: the hospital sees the connection close
    await wait_until(lambda: "left" in recorded.kinds())
    await asyncio.sleep(2.0)
    assert "recording_finished" not in recorded.kinds()  # kept open for the rejoin
    patient_again = browsers(PATIENT_LUMA + 30)
    await patient_again.join(hub, "visit-7", "patient")
    await wait_until(lambda: any(abs(luma - PATIENT_LUMA - 30) < 25 for _, luma, _ in doctor.received))
    await wait_until(lambda: len(patient_again.received) >= 5)  # the doctor reaches the rejoined patient too
    await asyncio.sleep(1.0)
    assert recorded.of("joined")[-1] == {"role": "patient", "rejoined": True, "paused": False}
    await hub.close_all()

    [finished] = [d for d in recorded.of("recording_finished") if d["role"] == "patient"]
    [(gap_from, gap_to)] = finished["gaps"]
    assert gap_to - gap_from > 1.0  # (the time away; packet timestamps may run a little ahead of arrival)
    path, _ = recorded.recordings["patient"]
    with av.open(str(path)) as container:
        [chapter] = container.chapters()
        pictures = [(float(f.pts * f.time_base), int(f.to_ndarray(format="gray")[120, 160]))
                    for f in container.decode(video=0)]
    assert chapter["metadata"]["title"] == "gap"
    chapter_from, chapter_to = (float(chapter[k] * chapter["time_base"]) for k in ("start", "end"))
    assert chapter_to - chapter_from == pytest.approx(gap_to - gap_from, abs=0.002)
    before = [luma for at, luma in pictures if at <= chapter_from]
    after = [luma for at, luma in pictures if at >= chapter_to]
    # One file, decodable end to end: the first connection's pictures, the gap, then the second's.
    assert before and after and len(before) + len(after) == len(pictures)
    assert abs(before[-1] - PATIENT_LUMA) < 25 and abs(after[-1] - PATIENT_LUMA - 30) < 25


async def test_closing_the_hub_closes_every_connection(make_hub, browsers, recorded):
    hub = await make_hub()
    pairs = []
    for visit in ("visit-5", "visit-6"):
        patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)
        await patient.join(hub, visit, "patient")
        await doctor.join(hub, visit, "doctor", check_face=always_the_doctor)
        pairs.append((patient, doctor))
    await wait_until(lambda: all(len(p.received) >= 3 and len(d.received) >= 3 for p, d in pairs))
    peers = [peer for visit in hub.visit_ids for peer in hub.room(visit).participants.values()]

    await hub.close_all()

    assert len(peers) == 4 and {peer.pc.connectionState for peer in peers} == {"closed"}
    assert hub.visit_ids == []
    assert len(recorded.of("left")) == 4 and len(recorded.of("recording_finished")) == 4
    await wait_until(lambda: {b.pc.connectionState for pair in pairs for b in pair} == {"closed"})


async def test_a_browser_may_trickle_its_candidates_after_the_offer(make_hub, browsers):
    hub = await make_hub()
    patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)
    await patient.join(hub, "visit-8", "patient")
    await doctor.pc.setLocalDescription(await doctor.pc.createOffer())
    offer = doctor.pc.localDescription.sdp
    candidates = [line[2:] for line in offer.splitlines() if line.startswith("a=candidate:")]
    # What a trickling browser sends: no candidates yet, and no end-of-candidates either.
    kept = [line for line in offer.splitlines() if not line.startswith(("a=candidate:", "a=end-of-candidates"))]
    bare_offer = "\r\n".join(kept) + "\r\n"

    answer = await hub.join("visit-8", "doctor", bare_offer, check_face=always_the_doctor)
    await doctor.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    for candidate in candidates:
        await hub.add_ice_candidate("visit-8", "doctor", candidate, sdp_mid="0")
    await hub.add_ice_candidate("visit-8", "doctor", "")

    assert candidates
    await wait_until(lambda: len(patient.received) >= 5)
    with pytest.raises(InvalidInput):
        await hub.add_ice_candidate("visit-8", "doctor", "candidate:nonsense")


async def test_a_doctor_cannot_join_without_a_face_checker(make_hub, browsers):
    hub = await make_hub()
    doctor = browsers(DOCTOR_LUMA)
    await doctor.pc.setLocalDescription(await doctor.pc.createOffer())

    with pytest.raises(InvalidInput):
        await hub.join("visit-7", "doctor", doctor.pc.localDescription.sdp)
