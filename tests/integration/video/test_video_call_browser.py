"""Issue 6 in real browsers: Debian's Chromium, its camera a .y4m made from a photo, joins a visit's call page on
the demo hospital served by uvicorn (SQLite). The enrolled doctor's face keeps the visit live; another man in
the doctor's chair pauses it within the grace period, both pages say so, and the pause is on the audit trail.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image, ImageOps
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.demo_server import demo_server

REPO = Path(__file__).resolve().parents[3]
FACES = Path(os.environ.get("HOSPITAL_SHARED_DIR", REPO.parent / "shared")) / "faces"
CHROMIUM = os.environ.get("HOSPITAL_CHROMIUM", "/usr/bin/chromium")
SAMPLE_S, GRACE_S = 1, 3

pytestmark = pytest.mark.browser


def webcam_y4m(photo: Path, out: Path) -> Path:
    """The photo as a 640×480 webcam picture centred on the face, in a 15 fps .y4m Chromium loops as its camera."""
    import face_recognition

    image = ImageOps.exif_transpose(Image.open(photo)).convert("RGB")
    small = image.copy()
    small.thumbnail((800, 800))
    scale = image.width / small.width
    top, right, bottom, left = (round(side * scale) for side in face_recognition.face_locations(np.asarray(small))[0])
    height = min(image.height, max(240, round((bottom - top) * 2.5)))  # the face about 40 % of the picture's height
    width = min(image.width, round(height * 4 / 3))
    height = round(width * 3 / 4)
    x0 = min(max((left + right) // 2 - width // 2, 0), image.width - width)
    y0 = min(max((top + bottom) // 2 - height // 2, 0), image.height - height)
    picture = np.asarray(image.crop((x0, y0, x0 + width, y0 + height)).resize((640, 480)).convert("YCbCr"))
    chroma = [picture[:, :, c].reshape(240, 2, 320, 2).mean(axis=(1, 3)).round().astype(np.uint8) for c in (1, 2)]
    frame = b"FRAME\n" + picture[:, :, 0].tobytes() + chroma[0].tobytes() + chroma[1].tobytes()
    out.write_bytes(b"YUV4MPEG2 W640 H480 F15:1 Ip A1:1 C420jpeg\n" + frame * 2)
    return out


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`hospital demo` on a free port (SQLite in a temporary data directory), face watch every second, 3 s grace."""
    data = tmp_path_factory.mktemp("hospital")
    env = {"HOSPITAL_SHARED_DIR": str(FACES.parent), "HOSPITAL_VIDEO_SAMPLE_INTERVAL": str(SAMPLE_S),
           "HOSPITAL_VIDEO_GRACE": str(GRACE_S), "HOSPITAL_FACE_WORKERS": "1"}
    with demo_server(data, env, probe="/ready") as url:
        yield url, data / "hospital.db"


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's Chromium is missing at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def launch(playwright: Playwright) -> Iterator[Callable[[Path | None], Browser]]:
    started: list[Browser] = []

    def start(camera: Path | None) -> Browser:
        args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
        if camera is not None:
            args.append(f"--use-file-for-fake-video-capture={camera}")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        started.append(browser)
        return browser

    yield start
    for browser in started:
        browser.close()


def login(url: str, username: str, password: str) -> str:
    response = httpx.post(f"{url}/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def accepted_visit(url: str, schedule_index: int) -> tuple[str, str, str]:
    """(visit id, patient token, face-verified doctor token) of a video visit the doctor accepted."""
    patient = {"Authorization": f"Bearer {login(url, '13800138000', 'patient-demo-2026')}"}
    schedule = httpx.get(f"{url}/api/schedules", params={"department": "03.04"}).json()[schedule_index]
    prior = httpx.get(f"{url}/api/prior-diagnoses", headers=patient).json()[0]["prior_diagnosis_id"]
    booked = httpx.post(f"{url}/api/visits", headers=patient, json={
        "schedule_id": schedule["schedule_id"], "prior_diagnosis_id": prior, "mode": "video"})
    assert booked.status_code == 201, booked.text
    visit_id = booked.json()["visit_id"]
    doctor = {"Authorization": f"Bearer {login(url, 'doctor.wang', 'doctor-demo-2026')}"}
    verified = httpx.post(f"{url}/api/me/face-verifications", headers=doctor, timeout=30,
                          files={"image": ("capture.jpg", (FACES / "obama2.jpg").read_bytes(), "image/jpeg")})
    assert verified.status_code == 201, verified.text
    doctor_token = verified.json()["access_token"]
    httpx.get(f"{url}/api/visits/{visit_id}/prior-diagnosis/document",  # REV-04: read before accepting
              headers={"Authorization": f"Bearer {doctor_token}"}).raise_for_status()
    accepted = httpx.post(f"{url}/api/visits/{visit_id}/accept", headers={"Authorization": f"Bearer {doctor_token}"},
                          json={"revisit_confirmed": True})
    assert accepted.status_code == 200, accepted.text
    return visit_id, patient["Authorization"][7:], doctor_token


def call_page(browser: Browser, url: str, visit_id: str, token: str, role: str, *, via_visit_page: bool = False) -> Page:
    """The visit's call page, logged in as the log-in page would leave the tab (sessionStorage); optionally
    reached the way a person does, from the visit's own page."""
    context = browser.new_context(base_url=url)
    context.add_init_script(f"try {{ sessionStorage.setItem('hospital.session', "
                            f"{json.dumps(json.dumps({'token': token, 'role': role}))}); }} catch (e) {{}}")
    page = context.new_page()
    if via_visit_page:
        page.goto(f"/{role}/visits/{visit_id}")
        page.click("[data-testid=video-join]")
        page.wait_for_url(f"**/visits/{visit_id}/call")
    else:
        page.goto(f"/visits/{visit_id}/call")
    return page


def query(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return connection.execute(sql, args).fetchall()


def face_checks(db: Path, visit_id: str) -> list[tuple[str, float | None]]:
    return [(s, d) for s, d in query(db, "SELECT status, distance FROM video_face_check WHERE visit_id = ? ORDER BY seq",
                                     uuid.UUID(visit_id).hex)]


def wait_for(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.25)
    return value


def test_the_enrolled_doctor_on_camera_keeps_the_visit_live(hospital: tuple[str, Path], launch: Any,
                                                           tmp_path: Path) -> None:
    url, db = hospital
    visit_id, patient_token, doctor_token = accepted_visit(url, 0)
    doctor = call_page(launch(webcam_y4m(FACES / "obama2.jpg", tmp_path / "doctor.y4m")), url, visit_id, doctor_token,
                       "doctor")
    patient = call_page(launch(None), url, visit_id, patient_token, "patient", via_visit_page=True)
    doctor.wait_for_selector("body[data-call-state=live]", timeout=30_000)
    patient.wait_for_selector("body[data-call-state=live]", timeout=30_000)

    # Longer than the grace period, every recent sample the enrolled doctor.
    checks = wait_for(lambda: (found := face_checks(db, visit_id)) and len(found) >= 2 * GRACE_S // SAMPLE_S and found)
    assert [status for status, _ in checks[-GRACE_S - 1:]] == ["ok"] * (GRACE_S + 1)
    assert all(distance is not None and distance < 0.5 for status, distance in checks if status == "ok")
    assert query(db, "SELECT paused, state FROM visit WHERE id = ?", uuid.UUID(visit_id).hex) == [(0, "in_progress")]
    assert query(db, "SELECT count(*) FROM audit_entry WHERE subject_id = ? AND action = 'video.paused'", visit_id) == [(0,)]
    assert doctor.get_attribute("body", "data-call-state") == "live"
    assert patient.evaluate("document.getElementById('remote-video').videoWidth") > 0  # the doctor's picture arrives


def test_another_person_in_the_doctor_s_chair_pauses_the_visit_for_both(hospital: tuple[str, Path], launch: Any,
                                                                        tmp_path: Path) -> None:
    url, db = hospital
    visit_id, patient_token, doctor_token = accepted_visit(url, 1)
    doctor = call_page(launch(webcam_y4m(FACES / "biden.jpg", tmp_path / "stranger.y4m")), url, visit_id, doctor_token,
                       "doctor")
    patient = call_page(launch(None), url, visit_id, patient_token, "patient")

    doctor.wait_for_selector("body[data-call-state=paused]", timeout=40_000)
    patient.wait_for_selector("body[data-call-state=paused]", timeout=10_000)
    assert doctor.is_visible("[data-testid=reverify]") and not patient.is_visible("[data-testid=reverify]")
    [(rule_id, detail)] = query(db, "SELECT rule_id, detail FROM audit_entry WHERE subject_id = ? AND action = "
                                    "'video.paused'", visit_id)
    assert rule_id == "FACE-02" and json.loads(detail)["reason"] == "face_mismatch"
    assert json.loads(detail)["for_s"] >= GRACE_S  # the stranger was there for the whole grace period
    assert query(db, "SELECT paused FROM visit WHERE id = ?", uuid.UUID(visit_id).hex) == [(1,)]
    assert query(db, "SELECT count(*) FROM outbox_event WHERE subject_id = ? AND event_type = 'video.paused'",
                 visit_id) == [(1,)]
    mismatches = [distance or 0.0 for status, distance in face_checks(db, visit_id) if status == "face_mismatch"]
    assert mismatches and min(mismatches) > 0.5  # each with its distance: a face, far from the enrolled one

    # The stranger cannot verify his way back in: the attempt is refused and the visit stays paused.
    doctor.click("[data-testid=reverify]")
    doctor.wait_for_selector("[data-testid=call-notice]:has-text('FACE-02')", timeout=30_000)
    assert doctor.get_attribute("body", "data-call-state") == "paused"
    assert query(db, "SELECT paused FROM visit WHERE id = ?", uuid.UUID(visit_id).hex) == [(1,)]
