"""The call page's resume in a real browser (Debian's Chromium): after the face watch paused the visit, the doctor
back in the chair answers the liveness challenge on the call page itself (FACE-02; never one still picture, the
single-image path being off in production), and the call goes on for both. The demo hospital served by uvicorn
(SQLite), face watch every second, 3 s grace, as tests/integration/video/test_video_call_browser.py's."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_steps import FACES, accepted_visit, call_page, launch, playwright, query

from tests.demo_server import demo_server

SAMPLE_S, GRACE_S = 1, 3

pytestmark = [pytest.mark.browser, pytest.mark.requirement("FACE-02")]
__all__ = ["launch", "playwright"]  # fixtures, from browser_steps


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`hospital demo` on a free port (SQLite in a temporary data directory), face watch every second, 3 s grace."""
    data = tmp_path_factory.mktemp("hospital")
    env = {"HOSPITAL_SHARED_DIR": str(FACES.parent), "HOSPITAL_VIDEO_SAMPLE_INTERVAL": str(SAMPLE_S),
           "HOSPITAL_VIDEO_GRACE": str(GRACE_S), "HOSPITAL_FACE_WORKERS": "1"}
    with demo_server(data, env, probe="/ready") as url:
        yield url, data / "hospital.db"

# The doctor's camera, a SYNTHETIC person (as tests/e2e/test_face_liveness_page.py's): getUserMedia's picture is a
# canvas showing Biden until the page offers the doctor to verify again (the face watch paused the visit), then
# obama2.jpg (doctor.wang is enrolled from obama.jpg) resting, or warped as tests/bursts.py makes the moves, whichever
# move the call's notice asks for; the frame number in small squares at the side makes consecutive frames differ.
FOLLOWER = """
(images) => {
  const canvas = document.createElement("canvas");
  canvas.width = 640;
  canvas.height = 480;
  const context = canvas.getContext("2d");
  const loaded = {};
  for (const [pose, data] of Object.entries(images)) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    createImageBitmap(new Blob([bytes], { type: "image/jpeg" })).then((bitmap) => { loaded[pose] = bitmap; });
  }
  let tick = 0;
  let doctorBack = false;
  setInterval(() => {
    const button = document.querySelector("[data-testid=reverify]");
    doctorBack = doctorBack || Boolean(button && !button.hidden);
    const notice = document.querySelector("[data-testid=call-notice]");
    const step = (notice && notice.dataset.step) || "rest";
    const image = doctorBack ? loaded[step] || loaded.rest : loaded.stranger;
    if (!image) return;
    context.fillStyle = "#808080";
    context.fillRect(0, 0, 640, 480);
    const width = image.width * 480 / image.height;
    context.drawImage(image, (640 - width) / 2, 0, width, 480);
    tick += 1;
    for (let bit = 0; bit < 12; bit += 1) {
      context.fillStyle = (tick >> bit) & 1 ? "#fff" : "#000";
      context.fillRect(0, bit * 16, 16, 16);
    }
  }, 50);
  const picture = canvas.captureStream(20);
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const microphone = constraints && constraints.audio ? await original({ audio: true }) : null;
    return new MediaStream([...picture.getVideoTracks(), ...(microphone ? microphone.getAudioTracks() : [])]);
  };
}
"""


def follower_script() -> str:
    from tests.bursts import frame, jpeg

    obama = (FACES / "obama2.jpg").read_bytes()
    images = {pose: base64.b64encode(jpeg(frame(obama, "neutral" if pose == "rest" else pose, noise=False), 92)).decode()
              for pose in ("rest", "turn_left", "turn_right", "closer")}
    images["stranger"] = base64.b64encode(jpeg(frame((FACES / "biden.jpg").read_bytes(), noise=False), 92)).decode()
    return f"({FOLLOWER})({json.dumps(images)})"


def test_the_doctor_back_in_the_chair_resumes_the_call_by_the_liveness_challenge(hospital: tuple[str, Path],
                                                                                 launch: Any) -> None:
    url, db = hospital
    visit_id, patient_token, doctor_token = accepted_visit(url, 0)
    doctor = call_page(launch(None), url, visit_id, doctor_token, "doctor", init_script=follower_script())
    patient = call_page(launch(None), url, visit_id, patient_token, "patient")
    doctor.wait_for_selector("body[data-call-state=paused]", timeout=40_000)
    patient.wait_for_selector("body[data-call-state=paused]", timeout=10_000)

    doctor.click("[data-testid=reverify]")
    doctor.wait_for_selector("[data-testid=call-notice][data-step=rest]", timeout=30_000)
    doctor.wait_for_selector("body[data-call-state=live]", timeout=60_000)
    patient.wait_for_selector("body[data-call-state=live]", timeout=30_000)
    assert query(db, "SELECT paused FROM visit WHERE id = ?", uuid.UUID(visit_id).hex) == [(0,)]
    assert query(db, "SELECT count(*) FROM audit_entry WHERE subject_id = ? AND action = 'video.resumed'",
                 visit_id) == [(1,)]
    # The verification that resumed was a liveness challenge answered by the doctor's moves (FACE-02).
    [(performed,)] = query(db, "SELECT detail FROM audit_entry WHERE action = 'practice_session.opened' "
                               "ORDER BY rowid DESC LIMIT 1")
    assert sorted(json.loads(performed)["liveness"]) == ["closer", "turn_left", "turn_right"]
