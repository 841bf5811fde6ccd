"""Steps of the call tests in real browsers: Debian's Chromium with a fake camera made from a photo, on the call
page of a hospital served for real; shared by test_video_call_browser.py and test_video_call_recovery.py."""

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

__all__ = ["CHROMIUM", "FACES", "accepted_visit", "call_page", "face_checks", "launch", "login", "playwright", "query",
           "wait_for", "webcam_y4m"]

REPO = Path(__file__).resolve().parents[3]
FACES = Path(os.environ.get("HOSPITAL_SHARED_DIR", REPO.parent / "shared")) / "faces"
CHROMIUM = os.environ.get("HOSPITAL_CHROMIUM", "/usr/bin/chromium")


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
        "schedule_id": schedule["schedule_id"], "prior_diagnosis_id": prior, "mode": "video",
        "fee_cny": schedule["prices"]["video"], "fee_accepted": True})
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


def call_page(browser: Browser, url: str, visit_id: str, token: str, role: str, *, via_visit_page: bool = False,
              init_script: str | None = None) -> Page:
    """The visit's call page, logged in as the log-in page would leave the tab (sessionStorage); optionally
    reached the way a person does, from the visit's own page. The session is put in the tab once, as the log-in
    does: a page renews it (SEC-01, the renewed token replaces this one), and the next page must carry that on."""
    context = browser.new_context(base_url=url)
    context.add_init_script(f"try {{ if (!sessionStorage.getItem('hospital.session')) sessionStorage.setItem("
                            f"'hospital.session', {json.dumps(json.dumps({'token': token, 'role': role}))}); }} "
                            f"catch (e) {{}}")
    if init_script is not None:  # e.g. a synthetic camera
        context.add_init_script(init_script)
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
