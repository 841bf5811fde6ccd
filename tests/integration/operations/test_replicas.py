"""Two app replicas on loopback behind Debian's nginx (deploy/nginx/hospital.conf, TLS) on PostgreSQL: the
patient's journey (register … dispense, without the video call) runs across them with consecutive requests on
different replicas (each response names its replica), and killing one mid-journey loses nothing: the tokens,
practice sessions and state it made are the other's too (one database, one shared token key).

The replicas run with the test settings (HOSPITAL_ENV=test), not production: production's start checks (REC-03
PostgreSQL over TLS, SUP-01 a platform, INS-03 the hospital's own disclosure) are proved where they are made
(tests/unit/core/test_residency.py, tests/unit/core/test_config_and_crypto.py,
tests/integration/connector/test_platform_gate.py), and the local PostgreSQL offers no TLS, so
`?ssl=require` could not connect here. nginx terminates TLS as in production (deploy/nginx/hospital.conf)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import ssl
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiortc import RTCSessionDescription
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench._cluster import MEDIA_ENV, media_workers, nginx, replicas
from bench._journey import Journey, Recorder, clinicians, patient_journey, publish_schedule
from hospital.config import Settings
from hospital.core.audit import AuditEntry, verify_chain
from hospital.core.outbox import OutboxEvent
from hospital.prescriptions.models import Dispensing
from hospital.video.models import CallPlacement, VisitRecording
from tests.integration.video.video_browsers import DOCTOR_LUMA, PATIENT_LUMA, Browser

FACES = Path(os.environ["HOSPITAL_SHARED_DIR"]) / "faces"


def replica(header: str) -> str:
    return header.split(":", 1)[0]  # "app-1:4242" → app-1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_the_journey_runs_across_two_replicas_behind_nginx_and_one_dying_loses_nothing(
    settings: Settings, demo: None, session: AsyncSession, tmp_path: Path
) -> None:
    with replicas(settings.resolved_database_url, settings.data_dir) as apps, \
            nginx([app.port for app in apps], tmp_path / "nginx") as edge:
        async with httpx.AsyncClient(base_url=edge.url, verify=edge.ssl_context, timeout=120) as client:
            doctor, pharmacist = clinicians(FACES)
            setup = Recorder()
            journey = Journey(await publish_schedule(client, doctor, setup, capacity=10), doctor, pharmacist)

            first = Recorder()
            await patient_journey(client, journey, 1, first)
            landed = [replica(r) for r in first.replicas]
            assert set(landed) == {"app-1", "app-2"}
            # Round robin, no stickiness: one request here, the next there (a token from one replica is good at
            # the other, a practice session opened on one is honoured by the other).
            assert all(a != b for a, b in itertools.pairwise(landed)), landed

            second = Recorder()
            killed_at: list[int] = []

            async def kill_app_1_after_the_emr(step: str) -> None:
                if step == "emr":
                    apps[0].kill()
                    killed_at.append(len(second.replicas))

            await patient_journey(client, journey, 2, second, between=kill_app_1_after_the_emr)
            before_kill = [replica(r) for r in second.replicas[:killed_at[0]]]
            after_kill = [replica(r) for r in second.replicas[killed_at[0]:]]
            assert set(before_kill) == {"app-1", "app-2"}
            # Sign-off, prescription (a signature), review and dispensing: all served by the survivor.
            assert len(after_kill) >= 4 and set(after_kill) == {"app-2"}

    # Nothing lost: both journeys are complete in the database, the audit chain is whole, every event is there.
    assert (await session.execute(select(func.count()).select_from(Dispensing))).scalar_one() == 2
    checked, broken = await verify_chain(session)
    assert broken is None and checked > 0
    dispensed = (await session.execute(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.event_type == "dispensing.dispensed"))).scalar_one()  # type: ignore[arg-type]
    assert dispensed == 2


class CallPage:
    """One participant's side of the call through the edge: an aiortc browser and the events socket."""

    def __init__(self, role: str, luma: int, headers: dict[str, str]) -> None:
        self.role, self.luma, self.headers = role, luma, headers
        self.browser = Browser(luma)
        self.notices: list[dict[str, Any]] = []
        self.closed_with: int | None = None
        self._socket: asyncio.Task[None] | None = None

    async def open(self, http: aiohttp.ClientSession, edge_url: str, visit_id: str, context: ssl.SSLContext) -> None:
        token = self.headers["Authorization"].removeprefix("Bearer ")
        url = f"{edge_url.replace('https', 'wss')}/api/visits/{visit_id}/call/events?token={token}"
        for _ in range(60):  # while the dead worker's lease runs out, the socket is refused: the page tries again
            try:
                socket = await http.ws_connect(url, ssl=context)
                break
            except aiohttp.WSServerHandshakeError:
                await asyncio.sleep(0.5)
        first = await socket.receive_json(timeout=30)
        assert first["kind"] == "state", first
        self.closed_with = None

        async def read() -> None:
            async for frame in socket:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    self.notices.append(json.loads(frame.data))
            self.closed_with = socket.close_code

        self._socket = asyncio.create_task(read())

    async def join(self, client: httpx.AsyncClient, visit_id: str, recorder: Recorder) -> httpx.Response:
        """The offer through the edge; while the call has no live worker (a lease still running out), 503 and
        again, as the page's own rejoin does."""
        pc = self.browser.pc
        await pc.setLocalDescription(await pc.createOffer())
        for _ in range(60):
            answer = recorder.seen(await client.post(f"/api/visits/{visit_id}/call/offer", headers=self.headers,
                                                     json={"type": "offer", "sdp": pc.localDescription.sdp}))
            if answer.status_code != 503:
                break
            await asyncio.sleep(0.5)
        assert answer.status_code == 200, answer.text
        await pc.setRemoteDescription(RTCSessionDescription(**answer.json()))
        return answer

    async def rejoin(self) -> None:
        """A fresh connection, as the page after its socket closed with 1012 (the worker went away)."""
        await self.close()
        self.browser = Browser(self.luma)

    async def close(self) -> None:
        await self.browser.close()
        if self._socket is not None:
            self._socket.cancel()
            await asyncio.gather(self._socket, return_exceptions=True)


async def sees_each_other(patient: CallPage, doctor: CallPage, timeout: float = 60) -> None:
    """Each browser receives the other's picture (its luma), relayed by the worker holding the call."""
    since = time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        if (any(abs(luma - DOCTOR_LUMA) < 30 for _, luma, _ in patient.browser.frames_since(since))
                and any(abs(luma - PATIENT_LUMA) < 30 for _, luma, _ in doctor.browser.frames_since(since))):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the two browsers did not see each other through the media worker")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_video_journey_runs_across_replicas_and_media_workers_and_survives_its_worker_killed(
    settings: Settings, demo: None, session: AsyncSession, tmp_path: Path
) -> None:
    """Issue 22: two replicas and two media workers behind nginx; the video visit's call is placed on one worker
    (recorded, with its lease) whatever replica each request lands on; SIGKILL that worker mid-call: the call is
    placed on the other, both sides rejoin and see each other again, and the visit goes on to its dispensing."""
    # A long grace: the test cameras show no face, and the face watch is not the subject here.
    call_env = {**MEDIA_ENV, "HOSPITAL_VIDEO_GRACE": "600"}
    with replicas(settings.resolved_database_url, settings.data_dir, env=call_env) as apps, \
            media_workers(settings.resolved_database_url, settings.data_dir, env=call_env) as workers, \
            nginx([app.port for app in apps], tmp_path / "nginx") as edge:
        async with httpx.AsyncClient(base_url=edge.url, verify=edge.ssl_context, timeout=120) as client, \
                aiohttp.ClientSession() as http:
            doctor_clinician, pharmacist = clinicians(FACES)
            journey = Journey(await publish_schedule(client, doctor_clinician, Recorder(), capacity=10),
                              doctor_clinician, pharmacist)
            recorder, state, held_by = Recorder(), {}, []

            async def video_call_after_the_start(step: str) -> None:
                if step != "start":
                    return
                visit_id = state["visit"]
                patient = CallPage("patient", PATIENT_LUMA, state["patient"])
                doctor = CallPage("doctor", DOCTOR_LUMA, await journey.doctor.headers(client, recorder))
                try:
                    for page in (patient, doctor):
                        await page.open(http, edge.url, visit_id, edge.ssl_context)
                    answers = [await patient.join(client, visit_id, recorder)]
                    # The patient waits in the call: the doctor's waiting list, asked of every worker, shows it.
                    for _ in range(50):
                        waiting = recorder.seen(await client.get("/api/doctor/call-waiting", headers=doctor.headers))
                        assert waiting.status_code == 200, waiting.text
                        if [row["visit_id"] for row in waiting.json()] == [visit_id]:
                            break
                        await asyncio.sleep(0.2)
                    assert [row["visit_id"] for row in waiting.json()] == [visit_id]
                    refused = await client.get("/api/doctor/call-waiting", headers=patient.headers)
                    assert refused.status_code == 403  # the doctor's own list: the route's guard holds in the app
                    answers.append(await doctor.join(client, visit_id, recorder))
                    held_by.append({a.headers["x-hospital-media-worker"] for a in answers})
                    assert len(held_by[0]) == 1, held_by  # one worker holds the call, whichever replica asked
                    assert {replica(a.headers["x-hospital-replica"]) for a in answers} == {"app-1", "app-2"}
                    await sees_each_other(patient, doctor)

                    # The worker holding the call dies: its media are gone, the pages' sockets say "restart".
                    killed = next(w for w in workers if w.name in held_by[0])
                    killed.kill()
                    for page in (patient, doctor):
                        for _ in range(100):
                            if page.closed_with is not None:
                                break
                            await asyncio.sleep(0.1)
                        assert page.closed_with == 1012, (page.role, page.closed_with)
                        await page.rejoin()
                    for page in (patient, doctor):
                        await page.open(http, edge.url, visit_id, edge.ssl_context)
                    answers = [await page.join(client, visit_id, recorder) for page in (patient, doctor)]
                    held_by.append({a.headers["x-hospital-media-worker"] for a in answers})
                    assert len(held_by[1]) == 1 and held_by[1] != held_by[0], held_by
                    await sees_each_other(patient, doctor)
                    for page in (patient, doctor):
                        left = recorder.seen(await client.post(f"/api/visits/{visit_id}/call/leave",
                                                               headers=page.headers))
                        assert left.status_code == 204, left.text
                finally:
                    for page in (patient, doctor):
                        await page.close()

            await patient_journey(client, journey, 3, recorder, video_call_after_the_start, mode="video",
                                  state=state)
            landed = [replica(r) for r in recorder.replicas]
            assert set(landed) == {"app-1", "app-2"}
            assert len(held_by) == 2

    # The call's state outlived its worker: placed twice (audited), both recordings of the rejoined call stored,
    # the visit went on to its prescription's dispensing, the audit chain is whole.
    visit_id = uuid.UUID(state["visit"])
    placement = (await session.execute(select(CallPlacement).where(CallPlacement.visit_id == visit_id))).scalar_one()
    assert placement.placements == 2 and placement.worker_id in held_by[1]
    placed = (await session.execute(select(AuditEntry.detail).where(
        AuditEntry.action == "video.call_placed", AuditEntry.subject_id == str(visit_id)
    ).order_by(AuditEntry.seq))).scalars().all()  # type: ignore[arg-type]  # in the chain's order
    assert [d["worker_id"] for d in placed] == [*held_by[0], *held_by[1]]
    roles = (await session.execute(select(VisitRecording.participant_role).where(
        VisitRecording.visit_id == visit_id))).scalars().all()
    assert sorted(roles) == ["doctor", "patient"]
    assert (await session.execute(select(func.count()).select_from(Dispensing))).scalar_one() == 1
    checked, broken = await verify_chain(session)
    assert broken is None and checked > 0
