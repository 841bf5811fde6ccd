"""Audio visits (语音复诊), as the public page advertises them: booked where the schedule offers them, held over the
hospital's media peer with microphones only, both participants recorded as audio (REC-02); the doctor verified
before taking the patient (FACE-02) and again, freshly, for each signature, since there is no picture to watch
(FACE-03)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import av
import pytest
from call_steps import eventually, join_call
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from video_browsers import DOCTOR_LUMA, PATIENT_LUMA, wait_until

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.video.models import VideoFaceCheck, VisitRecording
from tests.conftest import FakeClock
from tests.helpers import login_as
from tests.integration.visits.journey import EMR, accept, book, demo_prior_id, doctor_in_session, publish, schedule_of
from tests.signing import signed_post

pytestmark = pytest.mark.asyncio


async def test_an_audio_visit_is_booked_held_recorded_as_audio_and_each_signature_needs_a_fresh_face(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, clock: FakeClock, browsers: Any,
    tmp_path: Path, demo: None,
) -> None:
    patient_headers = await login_as(client, "patient")
    prior = await demo_prior_id(client, patient_headers)
    doctor_headers = await doctor_in_session(client)
    # A schedule that offers video and text only (the default) refuses an audio booking (REV-06) …
    plain = await publish(client, doctor_headers, days=5)
    assert plain.status_code == 201 and plain.json()["modes"] == ["text", "video"]
    refused = await book(client, patient_headers, plain.json()["schedule_id"], prior, mode="audio")
    assert refused.status_code == 422 and refused.json()["rule_id"] == "REV-06"
    # … the demo's schedules offer audio, as the public page says.
    schedule = await schedule_of(client)
    assert "audio" in schedule["modes"]
    booked = await book(client, patient_headers, schedule["schedule_id"], prior, mode="audio")
    assert booked.status_code == 201, booked.text
    visit_id = str(booked.json()["visit_id"])
    assert (await accept(client, doctor_headers, visit_id)).status_code == 200

    patient, doctor = browsers(PATIENT_LUMA, with_camera=False), browsers(DOCTOR_LUMA, with_camera=False)
    assert (await join_call(client, patient, visit_id, patient_headers)).status_code == 200
    # No picture to watch, but the doctor still verifies their face before taking the patient (FACE-02).
    unverified = await join_call(client, browsers(DOCTOR_LUMA, with_camera=False), visit_id,
                                 await login_as(client, "doctor"))
    assert unverified.status_code == 403 and unverified.json()["rule_id"] == "FACE-02"
    assert (await join_call(client, doctor, visit_id, doctor_headers)).status_code == 200
    status = (await client.get(f"/api/visits/{visit_id}/call", headers=patient_headers)).json()
    assert status["mode"] == "audio" and status["state"] == "in_progress"  # the doctor's join started it
    await wait_until(lambda: patient.audio_frames >= 100 and doctor.audio_frames >= 100, timeout=20)
    assert patient.received == [] and doctor.received == []  # no pictures either way
    live = (await client.get(f"/api/visits/{visit_id}/call", headers=doctor_headers)).json()
    assert live["connected"] == ["doctor", "patient"] and live["live_paused"] is False

    # Signing the record: a verification older than the signing window is refused (FACE-03), a fresh one passes.
    assert (await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor_headers, json=EMR)).status_code == 200
    clock.advance(seconds=ctx.settings.signing_window_seconds + 1)
    stale = await signed_post(client, f"/api/visits/{visit_id}/medical-record/sign-off", doctor_headers)
    assert stale.status_code == 403 and stale.json()["rule_id"] == "FACE-03"
    fresh = await doctor_in_session(client)
    assert (await signed_post(client, f"/api/visits/{visit_id}/medical-record/sign-off", fresh)).status_code == 200

    assert (await client.post(f"/api/visits/{visit_id}/call/leave", headers=patient_headers)).status_code == 204
    assert (await client.post(f"/api/visits/{visit_id}/call/leave", headers=fresh)).status_code == 204
    query = select(VisitRecording).where(col(VisitRecording.visit_id) == uuid.UUID(visit_id))
    recordings = (await session.execute(query)).scalars().all()
    assert sorted(r.participant_role for r in recordings) == ["doctor", "patient"]
    for recording in recordings:
        assert recording.content_type == "audio/x-matroska" and recording.duration_s >= 1.5
        path = tmp_path / f"{recording.participant_role}.mka"
        path.write_bytes(await ctx.blob_store().get(recording.recording_sha256))
        with av.open(str(path)) as container:
            assert [(s.type, s.codec_context.name) for s in container.streams] == [("audio", "opus")]
            samples = sum(frame.samples for frame in container.decode(audio=0))
            rate = container.streams.audio[0].rate
        assert abs(samples / rate - recording.duration_s) <= 0.25 * recording.duration_s + 1  # the whole call, as audio
    # Nothing to watch: no face samples, no pause.
    assert (await session.execute(select(VideoFaceCheck).where(col(VideoFaceCheck.visit_id) == uuid.UUID(visit_id)))
            ).first() is None
    await session.rollback()
    trail = await eventually(session, lambda s: _actions(s, visit_id), lambda a: a.count("video.recording_stored") == 2)
    assert "video.paused" not in trail and trail.count("video.joined") == 2


async def _actions(session: AsyncSession, visit_id: str) -> list[str]:
    rows = await session.execute(select(AuditEntry.action).where(AuditEntry.subject_id == visit_id)
                                 .order_by(col(AuditEntry.seq)))
    return list(rows.scalars())
