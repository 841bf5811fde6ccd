"""Issue 6 through the hospital's own signalling, on both databases: two in-process browsers hold a real visit's
call, each sees the other, both are recorded into the blob store for 3 years (REC-02), and only the visit's
patient and its face-verified doctor get in (SEC-01, FACE-02, REV-04)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import av
import pytest
from call_steps import accepted_video_visit, booked_video_visit, eventually, join_call
from litestar.testing import AsyncTestClient
from portal_ws import PortalWebSocket
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from video_browsers import DOCTOR_LUMA, FPS, PATIENT_LUMA, wait_until

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry, verify_chain
from hospital.core.blobs import Blob
from hospital.core.retention import RetentionClass, purge_not_before
from hospital.identity.models import User
from hospital.video.models import VideoFaceCheck, VisitRecording
from tests.helpers import count_rows, login_as
from tests.integration.visits.journey import accept, file_prior, new_patient, schedule_of, verified

pytestmark = [pytest.mark.asyncio, pytest.mark.requirement("FACE-02", "REV-04")]


async def actions(session: AsyncSession, visit_id: str) -> list[str]:
    rows = await session.execute(select(AuditEntry.action).where(AuditEntry.subject_id == visit_id)
                                 .order_by(col(AuditEntry.seq)))
    return list(rows.scalars())


async def test_patient_and_doctor_see_each_other_and_both_are_recorded_for_three_years(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, browsers: Any, tmp_path: Path,
    demo: None,
) -> None:
    patient_headers, doctor_headers, visit_id = await accepted_video_visit(client)
    patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)

    assert (await join_call(client, patient, visit_id, patient_headers)).status_code == 200
    assert (await client.get(f"/api/visits/{visit_id}", headers=patient_headers)).json()["state"] == "accepted"
    assert (await join_call(client, doctor, visit_id, doctor_headers)).status_code == 200
    # The doctor coming on camera starts the accepted visit.
    assert (await client.get(f"/api/visits/{visit_id}", headers=patient_headers)).json()["state"] == "in_progress"
    await wait_until(lambda: len(patient.received) >= 30 and len(doctor.received) >= 30, timeout=20)
    assert {abs(luma - DOCTOR_LUMA) < 25 for _, luma, _ in patient.received} == {True}
    assert {abs(luma - PATIENT_LUMA) < 25 for _, luma, _ in doctor.received} == {True}
    live = (await client.get(f"/api/visits/{visit_id}/call", headers=doctor_headers)).json()
    assert live["connected"] == ["doctor", "patient"] and live["paused"] is False

    # Every sample of the watch is kept; the test pictures hold no face, so each says so (the real face pool).
    samples = await eventually(session, lambda s: _statuses(s, visit_id), lambda found: "face_missing" in found)
    assert set(samples) <= {"face_missing", "no_video"}  # no_video: a picture stalled on a loaded machine
    ended = await client.post(f"/api/visits/{visit_id}/call/candidates", headers=patient_headers, json={"candidate": ""})
    assert ended.status_code == 204  # the browser's end of trickled candidates reaches its peer

    assert (await client.post(f"/api/visits/{visit_id}/call/leave", headers=patient_headers)).status_code == 204
    assert (await client.post(f"/api/visits/{visit_id}/call/leave", headers=doctor_headers)).status_code == 204

    query = select(VisitRecording).where(col(VisitRecording.visit_id) == uuid.UUID(visit_id))
    recordings = (await session.execute(query)).scalars().all()
    assert sorted(r.participant_role for r in recordings) == ["doctor", "patient"]
    keep_until = purge_not_before(RetentionClass.AUDIO_VIDEO, ctx.today())
    assert keep_until.year - ctx.today().year == 3
    for recording in recordings:
        blob = await session.get(Blob, recording.recording_sha256)
        assert blob is not None and blob.retention_class == "audio_video" and blob.purge_not_before == keep_until
        assert recording.purge_not_before == keep_until and blob.size == recording.size
        data = await ctx.blob_store().get(recording.recording_sha256)
        assert hashlib.sha256(data).hexdigest() == recording.recording_sha256
        path = tmp_path / f"{recording.participant_role}.mkv"
        path.write_bytes(data)
        with av.open(str(path)) as container:
            assert [s.type for s in container.streams] == ["video", "audio"]
            pictures = [frame.to_ndarray(format="gray") for frame in container.decode(video=0)]
        own = PATIENT_LUMA if recording.participant_role == "patient" else DOCTOR_LUMA
        assert 1.5 <= recording.duration_s <= 30.0
        assert abs(len(pictures) - recording.duration_s * FPS) <= 0.2 * recording.duration_s * FPS + 3
        assert abs(int(pictures[-1][120, 160]) - own) < 25  # the participant's own picture
    await session.rollback()

    trail = await eventually(session, lambda s: actions(s, visit_id), lambda a: a.count("video.left") == 2)
    assert trail.count("video.joined") == 2 and trail.count("video.recording_stored") == 2
    assert "visit.started" in trail and "video.paused" not in trail
    joined = (await session.execute(select(AuditEntry.actor_role).where(
        AuditEntry.subject_id == visit_id, AuditEntry.action == "video.joined").order_by(col(AuditEntry.seq)))).scalars().all()
    assert list(joined) == ["patient", "doctor"]  # each join is on the record as the person who joined
    assert (await verify_chain(session))[1] is None


async def _statuses(session: AsyncSession, visit_id: str) -> list[str]:
    rows = await session.execute(select(VideoFaceCheck.status).where(col(VideoFaceCheck.visit_id) == uuid.UUID(visit_id)))
    return list(rows.scalars())


@pytest.mark.parametrize("call_settings", [{"stun_urls": ("stun:stun.hospital.test:3478",),
                                            "turn_urls": ("turn:turn.hospital.test:3478?transport=udp",),
                                            "turn_secret": "coturn-static-auth-secret"}], ids=["ice"])
async def test_only_the_visit_s_patient_and_its_verified_doctor_join_an_accepted_visit(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, clock: Any, demo: None,
) -> None:
    requested_patient, requested_id = await booked_video_visit(client)
    offer = {"type": "offer", "sdp": "v=0\r\n"}
    not_yet = await client.post(f"/api/visits/{requested_id}/call/offer", headers=requested_patient, json=offer)
    assert not_yet.status_code == 409 and not_yet.json()["current_state"] == "requested"

    doctor_headers = await login_as(client, "doctor")
    schedule = await schedule_of(client)
    other = await new_patient(client, "李四", date(1980, 5, 6), "13900139000")
    assert (await file_prior(client, other)).status_code == 201
    prior = (await client.get("/api/prior-diagnoses", headers=other)).json()[0]["prior_diagnosis_id"]
    own = await client.post("/api/visits", headers=other, json={"schedule_id": schedule["schedule_id"],
                                                                 "prior_diagnosis_id": prior, "mode": "video",
                                                                 "fee_cny": schedule["prices"]["video"], "fee_accepted": True})
    assert own.status_code == 201, own.text
    verified_doctor = await verified(client, doctor_headers)
    assert (await accept(client, verified_doctor, requested_id)).status_code == 200
    visit_id = requested_id

    strangers = {"the patient of another visit": other, "a pharmacist": await login_as(client, "pharmacist"),
                 "an administrator": await login_as(client, "admin")}
    before = await count_rows(session, AuditEntry, VideoFaceCheck, User)
    for who, headers in strangers.items():
        for method, path in (("post", "offer"), ("get", "ice-servers"), ("get", ""), ("post", "leave")):
            kwargs = {"json": offer} if path == "offer" else {}
            response = await getattr(client, method)(f"/api/visits/{visit_id}/call/{path}", headers=headers, **kwargs)
            assert response.status_code == 404, (who, path, response.text)
        token = headers["Authorization"].removeprefix("Bearer ")
        with PortalWebSocket(client, f"/api/visits/{visit_id}/call/events", f"token={token}") as socket:
            assert not socket.accepted and socket.close_code == 4404, who
    unverified = await client.post(f"/api/visits/{visit_id}/call/offer", headers=doctor_headers, json=offer)
    assert unverified.status_code == 403 and unverified.json()["rule_id"] == "FACE-02"
    clock.advance(minutes=31)
    stale = await client.post(f"/api/visits/{visit_id}/call/offer", headers=verified_doctor, json=offer)
    assert stale.status_code == 403 and stale.json()["rule_id"] == "FACE-02"
    assert await count_rows(session, AuditEntry, VideoFaceCheck, User) == before  # refusals leave nothing behind

    garbled = await client.post(f"/api/visits/{visit_id}/call/offer", headers=requested_patient, json=offer)
    assert garbled.status_code == 422  # an offer that is not SDP with VP8/Opus: no call, no room left behind
    assert (await client.get(f"/api/visits/{visit_id}/call", headers=requested_patient)).json()["connected"] == []

    # The visit's own patient gets STUN and short-lived TURN credentials in the TURN REST form coturn checks.
    servers = (await client.get(f"/api/visits/{visit_id}/call/ice-servers", headers=requested_patient)).json()
    stun, turn = servers["ice_servers"]
    assert stun == {"urls": ["stun:stun.hospital.test:3478"]}
    expiry, user = turn["username"].split(":")
    assert int(expiry) > 0 and len(user) == 24 and turn["credential"]
    patient_user_id = ctx.tokens.decode(requested_patient["Authorization"][7:]).user_id
    assert user == ctx.cipher.keyed_hash(str(patient_user_id), context="turn.user")[:24]  # opaque in coturn's logs
    with PortalWebSocket(client, f"/api/visits/{visit_id}/call/events",
                         f"token={requested_patient['Authorization'][7:]}") as socket:
        assert socket.accepted
        state = await socket.receive_json()
        assert state == {"kind": "state", "visit_id": visit_id, "state": "accepted", "mode": "video", "paused": False,
                         "role": "patient", "connected": [], "live_paused": False}

