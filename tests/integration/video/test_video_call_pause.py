"""FACE-02 during the call, through the hospital's endpoints on both databases: another person in the doctor's
chair beyond the grace period pauses the visit, both sides are told, the pause is audited and reported, a
reconnecting doctor stays paused, and only a fresh verification resumes; ending the visit ends the call."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from call_steps import accepted_video_visit, eventually, join_call
from litestar.testing import AsyncTestClient
from portal_ws import PortalWebSocket
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from video_browsers import DOCTOR_LUMA, PATIENT_LUMA, wait_until

from hospital.context import HospitalContext
from hospital.core.audit import Actor, AuditEntry
from hospital.core.errors import InvalidTransition
from hospital.core.outbox import OutboxEvent
from hospital.video import FaceCheck, service
from hospital.video.models import VideoFaceCheck, VisitRecording
from hospital.visits.booking.models import Visit
from tests.conftest import FakeClock
from tests.helpers import login_as
from tests.integration.visits.journey import race, verified

pytestmark = [pytest.mark.asyncio, pytest.mark.requirement("FACE-02")]

THE_DOCTOR = FaceCheck(present=True, match=True, distance=0.35)
SOMEONE_ELSE = FaceCheck(present=True, match=False, distance=0.83)
RETURNING_LUMA = 130  # the doctor's second browser, after the dropped connection


class Chair:
    """Who sits in the doctor's chair, as the face check reports it (stands in for the face pool)."""

    def __init__(self) -> None:
        self.seen = THE_DOCTOR
        self.templates: list[bytes] = []

    def checker(self, ctx: HospitalContext, template: bytes) -> Any:
        self.templates.append(template)

        async def check(rgb: Any) -> FaceCheck:
            return self.seen

        return check


def lumas_since(browser: Any, moment: float) -> list[int]:
    return [luma for _, luma, _ in browser.frames_since(moment)]


async def is_paused(session: AsyncSession, visit_id: str) -> bool:
    paused = (await session.execute(select(Visit.paused).where(Visit.id == uuid.UUID(visit_id)))).scalar_one()
    await session.rollback()
    return bool(paused)


async def events_of(session: AsyncSession, visit_id: str, kind: str) -> list[OutboxEvent]:
    query = select(OutboxEvent).where(OutboxEvent.subject_id == visit_id, OutboxEvent.event_type == kind)
    return list((await session.execute(query)).scalars())


async def audit_of(session: AsyncSession, visit_id: str, action: str) -> list[AuditEntry]:
    query = (select(AuditEntry).where(AuditEntry.subject_id == visit_id, AuditEntry.action == action)
             .order_by(col(AuditEntry.seq)))
    return list((await session.execute(query)).scalars())


async def face_samples(session: AsyncSession, visit_id: str) -> list[tuple[str, float | None]]:
    query = (select(VideoFaceCheck.status, VideoFaceCheck.distance)
             .where(col(VideoFaceCheck.visit_id) == uuid.UUID(visit_id)).order_by(col(VideoFaceCheck.seq)))
    return [(status, distance) for status, distance in (await session.execute(query)).all()]


async def recording_roles(session: AsyncSession, visit_id: str) -> list[str]:
    query = select(VisitRecording.participant_role).where(col(VisitRecording.visit_id) == uuid.UUID(visit_id))
    return sorted((await session.execute(query)).scalars())


@pytest.mark.parametrize("call_settings", [{"video_grace_s": 1.0}], ids=["grace-1s"])
async def test_a_stranger_in_the_doctor_s_chair_pauses_the_call_until_the_doctor_verifies_again(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, clock: FakeClock, browsers: Any,
    demo: None,
) -> None:
    chair = Chair()
    ctx.face_checker = chair.checker
    patient_headers, doctor_headers, visit_id = await accepted_video_visit(client)
    patient, doctor = browsers(PATIENT_LUMA), browsers(DOCTOR_LUMA)
    assert (await join_call(client, patient, visit_id, patient_headers)).status_code == 200
    assert (await join_call(client, doctor, visit_id, doctor_headers)).status_code == 200
    assert len(chair.templates) == 1 and len(chair.templates[0]) == 1028  # the doctor's enrolment, opened at join
    await wait_until(lambda: len(patient.received) >= 10, timeout=20)
    events = f"/api/visits/{visit_id}/call/events"

    # The doctor's face is sampled and kept at least once before someone else sits down (a loaded machine may
    # stall the first frames long enough that the chair changes before any sample of the doctor).
    await eventually(session, lambda s: face_samples(s, visit_id), lambda series: ("ok", 0.35) in series)

    with PortalWebSocket(client, events, f"token={patient_headers['Authorization'][7:]}") as patients_page:
        assert (await patients_page.next_of("state"))["paused"] is False
        chair.seen = SOMEONE_ELSE
        paused = await patients_page.next_of("paused", timeout=10)
    assert paused["reason"] == "face_mismatch"
    assert await eventually(session, lambda s: is_paused(s, visit_id), lambda paused: paused)
    [entry] = await audit_of(session, visit_id, "video.paused")
    assert entry.rule_id == "FACE-02" and entry.detail["reason"] == "face_mismatch" and entry.detail["for_s"] >= 1.0
    [reported] = await events_of(session, visit_id, "video.paused")
    assert reported.payload["reason"] == "face_mismatch" and reported.payload["visit_id"] == visit_id
    series = await face_samples(session, visit_id)
    await session.rollback()
    # Every sample is kept with its distance; on a loaded machine a stalled first frame may add a no_video sample.
    assert ("ok", 0.35) in series and ("face_mismatch", 0.83) in series

    # Paused: the doctor no longer reaches the patient; the patient still reaches the doctor.
    await asyncio.sleep(0.5)
    moment = time.monotonic()
    await asyncio.sleep(1.5)
    assert lumas_since(patient, moment) == [] and lumas_since(doctor, moment) != []

    # The doctor's network drops and a new browser joins: the visit stays paused, whoever now sits there.
    chair.seen = THE_DOCTOR
    returning = browsers(RETURNING_LUMA)
    assert (await join_call(client, returning, visit_id, doctor_headers)).status_code == 200
    await wait_until(lambda: len(returning.received) >= 5, timeout=20)
    moment = time.monotonic()
    await asyncio.sleep(1.5)
    assert lumas_since(patient, moment) == []
    assert (await audit_of(session, visit_id, "video.joined"))[-1].detail == {"role": "doctor", "rejoined": True,
                                                                             "paused": True}
    await session.rollback()

    # Only the doctor resumes, and only with a verification younger than the resume window (2 minutes).
    by_patient = await client.post(f"/api/visits/{visit_id}/call/resume", headers=patient_headers)
    assert by_patient.status_code == 403
    clock.advance(minutes=3)
    stale = await client.post(f"/api/visits/{visit_id}/call/resume", headers=doctor_headers)
    assert stale.status_code == 403 and stale.json()["rule_id"] == "FACE-02"
    assert await is_paused(session, visit_id)
    fresh = await verified(client, await login_as(client, "doctor"))
    with PortalWebSocket(client, events, f"token={patient_headers['Authorization'][7:]}") as patients_page:
        await patients_page.next_of("state")
        resumed = await client.post(f"/api/visits/{visit_id}/call/resume", headers=fresh)
        assert resumed.status_code == 200 and resumed.json()["paused"] is False, resumed.text
        assert (await patients_page.next_of("resumed"))["after"] == "face_mismatch"
    moment = time.monotonic()
    await wait_until(lambda: any(abs(luma - RETURNING_LUMA) < 25 for luma in lumas_since(patient, moment)), timeout=10)
    assert not await is_paused(session, visit_id)
    [entry] = await audit_of(session, visit_id, "video.resumed")
    assert entry.rule_id == "FACE-02" and entry.actor_role == "doctor"
    [reported] = await events_of(session, visit_id, "video.resumed")
    assert reported.payload["practice_session_id"]
    again = await client.post(f"/api/visits/{visit_id}/call/resume", headers=fresh)
    assert again.status_code == 409 and again.json()["current_state"] == "live"
    await session.rollback()

    # The visit ends while both are on camera: the call ends with it and both recordings are kept.
    with PortalWebSocket(client, events, f"token={patient_headers['Authorization'][7:]}") as patients_page:
        await patients_page.next_of("state")
        ended = await client.post(f"/api/visits/{visit_id}/terminate", headers=fresh,
                                  json={"reason": "patient_request", "note": "患者要求结束"})
        assert ended.status_code == 200, ended.text
        await patients_page.next_of("ended")
    roles = await eventually(session, lambda s: recording_roles(s, visit_id), lambda found: len(found) >= 2)
    assert roles == ["doctor", "patient"]
    late = await client.post(f"/api/visits/{visit_id}/call/offer", headers=patient_headers,
                             json={"type": "offer", "sdp": "v=0\r\n"})
    assert late.status_code == 409 and late.json()["current_state"] == "terminated"


async def test_two_pauses_or_two_resumes_at_once_change_the_visit_once(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, settings: Any, demo: None,
) -> None:
    _, doctor_headers, visit_id = await accepted_video_visit(client)
    vid = uuid.UUID(visit_id)
    breach = {"reason": "face_missing", "for_s": 1.2}
    pauses = await race(settings, *(lambda s: service.record_pause(s, ctx, vid, None, breach) for _ in range(2)))
    assert sorted(pauses) == [False, True]
    principal = ctx.tokens.decode(doctor_headers["Authorization"][7:])
    doctor = Actor(principal.user_id, "doctor")
    resumes = await race(settings, *(lambda s: service.resume_call(s, ctx, doctor, principal, vid) for _ in range(2)))
    refused = [r for r in resumes if isinstance(r, InvalidTransition)]
    assert len(refused) == 1 and refused[0].extra["current_state"] == "live"
    assert [len(await events_of(session, visit_id, kind)) for kind in ("video.paused", "video.resumed")] == [1, 1]
    assert not await is_paused(session, visit_id)
