"""Issue 21 in real browsers: the patient's network is cut for 5 seconds in the middle of a video visit (Chromium
on both sides, fake cameras). Both pages see the call come back without a reload, the patient's page by joining
again by itself, and the patient's recording decodes end to end, one file, with the time away marked as a gap.

The hospital is served in this process (uvicorn in a thread, SQLite), so the test can cut the patient's network
where it cannot be faked in the browser (Chromium's offline emulation does not reach WebRTC): every datagram of
the patient's ICE transport at the hospital's end is dropped, both ways, from then on (the old path is gone, as
when a phone drops its Wi-Fi), and for 5 s so is every datagram of any new connection the patient makes. Both
ends see what a dropped network looks like: silence; only a new connection brings the call back.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
import uvicorn
from browser_steps import FACES, accepted_visit, call_page, launch, playwright, query, wait_for, webcam_y4m

from hospital.app import create_app
from hospital.config import load_settings
from hospital.context import HospitalContext
from hospital.db import migrate
from hospital.video.peers import ParticipantPeer
from hospital.wiring import wired_context
from tests.demo_server import free_port

pytestmark = pytest.mark.browser
__all__ = ["launch", "playwright"]  # fixtures, from browser_steps

CUT_S = 5.0


@dataclass
class Served:
    url: str
    db: Path
    ctx: HospitalContext
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the hospital's own event loop (its media peer lives there)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo hospital in a thread of this process: face watch every second, a long grace (the doctor is not
    the subject here)."""
    data = tmp_path_factory.mktemp("hospital")
    env = {**os.environ, "HOSPITAL_ENV": "demo", "HOSPITAL_DATA_DIR": str(data), "HOSPITAL_SHARED_DIR": str(FACES.parent),
           "HOSPITAL_VIDEO_SAMPLE_INTERVAL": "1", "HOSPITAL_VIDEO_GRACE": "60", "HOSPITAL_FACE_WORKERS": "1"}
    env.pop("HOSPITAL_DATABASE_URL", None)
    settings = load_settings(env)
    migrate(settings.resolved_database_url)
    ctx = wired_context(settings)
    port = free_port()
    app = create_app(settings, ctx, seed_demo=True)  # seeded in the background; /ready waits for it
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    loop = asyncio.new_event_loop()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.serve())

    thread = threading.Thread(target=serve, name="hospital", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        assert thread.is_alive() and time.monotonic() < deadline, "the hospital did not start"
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    yield Served(url, data / "hospital.db", ctx, loop)
    server.should_exit = True
    thread.join(30)


def _silence(peer: ParticipantPeer, until: float) -> None:
    """Drop every datagram of `peer`'s ICE transport, both ways, until `until` (time.monotonic)."""
    transports = {t.receiver.transport.transport for t in peer.pc.getTransceivers() if t.receiver.transport}
    for ice in transports:
        for protocol in ice.iceGatherer._connection._protocols:
            received, send_stun, send_data = protocol.datagram_received, protocol.send_stun, protocol.send_data

            def datagram_received(data: bytes, addr: Any, f: Any = received) -> None:
                if time.monotonic() >= until:
                    f(data, addr)

            def stun(message: Any, addr: Any, f: Any = send_stun) -> None:
                if time.monotonic() >= until:
                    f(message, addr)

            async def data_out(data: bytes, addr: Any, f: Any = send_data) -> None:
                if time.monotonic() >= until:
                    await f(data, addr)

            protocol.datagram_received, protocol.send_stun, protocol.send_data = datagram_received, stun, data_out


async def cut_network(ctx: HospitalContext, visit_id: str, role: str, seconds: float) -> None:
    """The participant's network goes away: their connection for good, any new one for `seconds`."""
    until = time.monotonic() + seconds
    assert ctx.calls is not None
    _silence(ctx.calls.hub.room(visit_id).participants[role], float("inf"))  # type: ignore[index]
    answer = ParticipantPeer.answer

    async def answer_in_the_dark(who: Any, offer_sdp: str, **kwargs: Any) -> Any:
        peer, sdp = await answer(who, offer_sdp, **kwargs)
        if who == role and time.monotonic() < until:
            _silence(peer, until)
        return peer, sdp

    ParticipantPeer.answer = answer_in_the_dark  # type: ignore[method-assign]
    asyncio.get_running_loop().call_later(seconds + 1, setattr, ParticipantPeer, "answer", answer)


STATES = """() => { window.__states = [document.body.dataset.callState]; window.__loaded = true; window.__notices = [];
  new MutationObserver(() => window.__states.push(document.body.dataset.callState))
    .observe(document.body, { attributes: true, attributeFilter: ["data-call-state"] });
  const notice = document.querySelector("[data-testid=call-notice]");
  new MutationObserver(() => window.__notices.push(notice.textContent))
    .observe(notice, { childList: true, characterData: true, subtree: true }); }"""
I18N = Path(__file__).resolve().parents[3] / "frontend" / "i18n"


def texts(key: str) -> set[str]:
    """The text of `key` in every language of the pages."""
    return {json.loads(path.read_text(encoding="utf-8"))[key] for path in I18N.glob("*.json")}
FRAMES = "() => document.getElementById('remote-video').getVideoPlaybackQuality().totalVideoFrames"


def frames_flow(page: Any, seconds: float = 2.0) -> bool:
    """The remote picture is moving: more frames decoded now than `seconds` ago."""
    before = page.evaluate(FRAMES)
    time.sleep(seconds)
    return bool(page.evaluate(FRAMES) > before + 5)


def test_the_patient_s_network_cut_for_5_seconds_the_call_comes_back_by_itself_and_the_recording_marks_the_gap(
        served: Served, launch: Any, tmp_path: Path) -> None:
    visit_id, patient_token, doctor_token = accepted_visit(served.url, 0)
    doctor = call_page(launch(webcam_y4m(FACES / "obama2.jpg", tmp_path / "doctor.y4m")), served.url, visit_id,
                       doctor_token, "doctor")
    patient = call_page(launch(None), served.url, visit_id, patient_token, "patient")
    doctor.wait_for_selector("body[data-call-state=live]", timeout=30_000)
    patient.wait_for_selector("body[data-call-state=live]", timeout=30_000)
    wait_for(lambda: frames_flow(doctor) and frames_flow(patient), timeout=30)
    time.sleep(2.0)  # some call before the cut
    for page in (doctor, patient):
        page.evaluate(STATES)

    served.run(cut_network(served.ctx, visit_id, "patient", CUT_S))
    patient.wait_for_selector("body[data-call-state=reconnecting]", timeout=15_000)  # the page says so
    cut_at = time.monotonic()
    patient.wait_for_selector("body[data-call-state=live]", timeout=60_000)
    wait_for(lambda: frames_flow(doctor) and frames_flow(patient), timeout=30)  # both sides see each other again
    assert patient.evaluate("window.__loaded") is True and doctor.evaluate("window.__loaded") is True  # no reload
    assert int(patient.get_attribute("body", "data-reconnects") or 0) >= 1  # it joined again by itself
    assert patient.evaluate("window.__states")[-1] == "live"
    assert doctor.get_attribute("body", "data-call-state") == "live"
    # The doctor's page said the patient's connection was in trouble, then that the patient is back.
    told = doctor.evaluate("window.__notices")
    assert texts("video.other_stalled") & set(told) and texts("video.other_back") & set(told), told
    time.sleep(max(0.0, 2.0 - (time.monotonic() - cut_at)))

    for page in (patient, doctor):
        page.click("[data-testid=leave]")
        page.wait_for_selector("body[data-call-state=ended]", timeout=20_000)
    rows = wait_for(lambda: query(served.db, "SELECT participant_role, recording_sha256, duration_s FROM visit_recording "
                                             "WHERE visit_id = ?", uuid.UUID(visit_id).hex), timeout=30)
    recordings = {role: (sha, duration) for role, sha, duration in rows}
    assert set(recordings) == {"patient", "doctor"}  # one file each: the rejoin continued the patient's recording
    sha, duration = recordings["patient"]
    path = tmp_path / "patient.mkv"
    path.write_bytes(served.run(served.ctx.blob_store().get(sha)))
    with av.open(str(path)) as container:
        chapters = container.chapters()
        pictures = [float(frame.pts * frame.time_base) for frame in container.decode(video=0)]  # decodes end to end
    with av.open(str(path)) as container:
        sounds = sum(1 for _ in container.decode(audio=0))
    gaps = [(float(c["start"] * c["time_base"]), float(c["end"] * c["time_base"])) for c in chapters
            if c["metadata"].get("title") == "gap"]
    assert len(gaps) == 1, chapters
    (gap_from, gap_to), start = gaps[0], pictures[0]
    assert CUT_S - 2 <= gap_to - gap_from <= 30, gaps
    assert [p for p in pictures if p <= gap_from + 0.01] and [p for p in pictures if p >= gap_to - 0.01]
    assert not [p for p in pictures if gap_from + 0.1 < p < gap_to - 0.1]  # nothing inside the gap
    assert sounds > 0 and pictures[-1] - start <= duration + 1
    [(detail,)] = query(served.db, "SELECT detail FROM audit_entry WHERE subject_id = ? AND action = "
                                   "'video.recording_gaps'", visit_id)
    assert json.loads(detail)["role"] == "patient" and len(json.loads(detail)["gaps"]) == 1
