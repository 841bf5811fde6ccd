"""The language switch keeps the call on the visit pages (issue 14): a doctor and a patient in a live video call on
their visit pages, the call beside the chat; each switches zh-CN → English → zh-CN. The page changes its words in
place: the same document, the same call (the same remote stream, no rejoin, frames still arriving), the server
sees nobody leave or join again, and no sentence of the old language is left on the page. The choice is remembered
for the next page.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from hospital.web.i18n import catalogue
from tests.e2e.conftest import DESKTOP, PHONE, SHARED, Screens, new_page

pytestmark = [pytest.mark.browser, pytest.mark.requirement("FACE-02")]

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _token(url: str, username: str, password: str) -> str:
    response = httpx.post(f"{url}/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def live_visit(url: str) -> tuple[str, str, str]:
    """(visit id, patient token, face-verified doctor token) of a video visit the doctor accepted and started."""
    patient = {"Authorization": f"Bearer {_token(url, '13800138000', 'patient-demo-2026')}"}
    prior = httpx.get(f"{url}/api/prior-diagnoses", headers=patient).json()[0]["prior_diagnosis_id"]
    for schedule in httpx.get(f"{url}/api/schedules", params={"department": "03.04"}).json():
        if "video" not in schedule["prices"]:
            continue
        booked = httpx.post(f"{url}/api/visits", headers=patient, json={
            "schedule_id": schedule["schedule_id"], "prior_diagnosis_id": prior, "mode": "video",
            "fee_cny": schedule["prices"]["video"], "fee_accepted": True})
        if booked.status_code == 201:
            break
    assert booked.status_code == 201, booked.text
    visit_id = booked.json()["visit_id"]
    doctor = {"Authorization": f"Bearer {_token(url, 'doctor.wang', 'doctor-demo-2026')}"}
    verified = httpx.post(f"{url}/api/me/face-verifications", headers=doctor, timeout=60,
                          files={"image": ("capture.jpg", (SHARED / "faces" / "obama2.jpg").read_bytes(), "image/jpeg")})
    assert verified.status_code == 201, verified.text
    doctor = {"Authorization": f"Bearer {verified.json()['access_token']}"}
    httpx.get(f"{url}/api/visits/{visit_id}/prior-diagnosis/document", headers=doctor).raise_for_status()  # REV-04
    accepted = httpx.post(f"{url}/api/visits/{visit_id}/accept", headers=doctor, json={"revisit_confirmed": True})
    assert accepted.status_code == 200, accepted.text
    return visit_id, patient["Authorization"][7:], doctor["Authorization"][7:]


def visit_page(browser: Browser, url: str, path: str, token: str, role: str, viewport: dict[str, int]) -> Page:
    """The visit page in a tab holding the session as the log-in page leaves it (sessionStorage)."""
    context, page = new_page(browser, url, viewport)
    context.add_init_script(f"try {{ if (!sessionStorage.getItem('hospital.session')) sessionStorage.setItem("
                            f"'hospital.session', {json.dumps(json.dumps({'token': token, 'role': role}))}); }} "
                            f"catch (e) {{}}")
    page.goto(path)
    return page


def call_audits(db: Path, visit_id: str) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return [action for (action,) in connection.execute(
            "SELECT action FROM audit_entry WHERE subject_id = ? AND action IN ('video.joined', 'video.left') "
            "ORDER BY rowid", (visit_id,))]


def sentences(language: str) -> set[str]:
    """The catalogue's sentences of `language` that the other language does not share, cut at their placeholders:
    what must be gone from a page once it speaks the other language."""
    other = set(catalogue("en" if language == "zh-CN" else "zh-CN").values())
    pieces: set[str] = set()
    for text in catalogue(language).values():
        if text in other:
            continue
        for piece in PLACEHOLDER.split(text):
            piece = piece.strip(" ：:，,。.（）()·—-")
            if (language == "zh-CN" and len(piece) >= 4) or (language == "en" and len(piece.split()) >= 3):
                pieces.add(piece)
    return pieces


def page_words(page: Page) -> str:
    """The page's words: its visible text and the accessible names a screen reader reads."""
    return page.locator("body").inner_text() + "\n" + page.evaluate(
        "[...document.querySelectorAll('[aria-label],[title],[alt],[placeholder]')].map((el) =>"
        " ['aria-label','title','alt','placeholder'].map((n) => el.getAttribute(n) || '').join(' ')).join('\\n')")


def old_sentences_left(page: Page, before: str, language: str) -> list[str]:
    """The old language's sentences that were on the page before the switch and still are."""
    now = page_words(page)
    return sorted(piece for piece in sentences(language) if piece in before and piece in now)


def frames(page: Page) -> int:
    return int(page.evaluate("document.querySelector('[data-testid=remote-video]').getVideoPlaybackQuality()"
                             ".totalVideoFrames"))


def switch_and_check(page: Page, to: str, button: str, live_text: str, db: Path, visit_id: str) -> None:
    # The call as it stands before the switch (a loaded machine may have made it rejoin earlier: that is not this).
    page.evaluate("window.sameDocument = true; window.remoteStream ="
                  " document.querySelector('[data-testid=remote-video]').srcObject")
    rejoins = page.get_attribute("[data-testid=call]", "data-reconnects")
    before, audits, seen = page_words(page), call_audits(db, visit_id), frames(page)
    page.get_by_role("button", name=button).click()
    expect(page.locator("html")).to_have_attribute("lang", to)
    expect(page.get_by_test_id("call-status")).to_have_text(live_text)
    expect(page.get_by_test_id("chat-log")).not_to_contain_text("加载中" if to == "en" else "Loading")
    old = "zh-CN" if to == "en" else "en"
    left: list[str] = []
    for _ in range(120):  # the modules say their texts again after reading the visit: wait for them to have done so
        left = old_sentences_left(page, before, old)
        if not left:
            break
        page.wait_for_timeout(250)
    assert left == [], f"{old} left on the {to} page: {left}; page errors: {page.errors}"  # type: ignore[attr-defined]
    assert page.evaluate("window.sameDocument") is True  # not reloaded
    # Live (a moment's silence on a loaded machine shows "reconnecting" until the bytes flow again: that is the
    # same connection recovering by itself, not a rejoin, which the next lines would see).
    expect(page.get_by_test_id("call")).to_have_attribute("data-call-state", "live")
    assert page.get_attribute("[data-testid=call]", "data-reconnects") == rejoins  # not joined again
    assert page.evaluate("document.querySelector('[data-testid=remote-video]').srcObject === window.remoteStream")
    assert page.evaluate("window.remoteStream.active") is True
    for _ in range(40):
        if frames(page) > seen:
            break
        page.wait_for_timeout(250)
    assert frames(page) > seen  # media still flowing
    assert call_audits(db, visit_id) == audits  # the server saw nobody leave or join again


def test_switching_language_on_the_visit_pages_keeps_the_live_call(
        launch: Callable[..., Browser], plain_browser: Browser, hospital_url: str, cameras: dict[str, Path],
        e2e_dir: Path, screens: Screens) -> None:
    db = e2e_dir / "data" / "hospital.db"
    visit_id, patient_token, doctor_token = live_visit(hospital_url)
    doctor = visit_page(launch(cameras["doctor"]), hospital_url, f"/doctor/visits/{visit_id}", doctor_token, "doctor",
                        DESKTOP)
    patient = visit_page(plain_browser, hospital_url, f"/patient/visits/{visit_id}", patient_token, "patient", PHONE)
    for page in (doctor, patient):
        page.get_by_role("button", name="加入视频问诊").click()
    for page in (doctor, patient):
        expect(page.get_by_test_id("call")).to_have_attribute("data-call-state", "live", timeout=45_000)
        expect(page.get_by_test_id("chat-log")).to_be_visible()
    # Both joins are on the record before anyone switches: from here on, any join or leave would be a rejoin.
    for _ in range(120):
        if call_audits(db, visit_id) == ["video.joined", "video.joined"]:
            break
        doctor.wait_for_timeout(250)
    assert call_audits(db, visit_id) == ["video.joined", "video.joined"]
    doctor.get_by_label("主诉").fill("血压控制尚可")  # what the doctor typed survives the switch

    for page, name in ((doctor, "doctor"), (patient, "patient")):
        switch_and_check(page, "en", "Switch to English", "Live", db, visit_id)
        expect(page.locator("#consult-heading")).to_have_text("Consultation")
        screens(page, f"{name}-visit-call-english", full_page=name == "patient")
    expect(doctor.get_by_label("Chief complaint")).to_have_value("血压控制尚可")
    expect(doctor.get_by_test_id("chat-log")).to_be_visible()
    doctor.get_by_label("Message").fill("How is your blood pressure?")
    doctor.get_by_role("button", name="Send", exact=True).click()
    expect(patient.get_by_test_id("chat-log")).to_contain_text("How is your blood pressure?", timeout=20_000)
    for page, name in ((doctor, "doctor"), (patient, "patient")):
        switch_and_check(page, "zh-CN", "切换为中文", "通话中", db, visit_id)
        screens(page, f"{name}-visit-call-chinese", full_page=name == "patient")
    expect(doctor.get_by_label("主诉")).to_have_value("血压控制尚可")
    for page in (doctor, patient):  # the chat says who wrote in the page's language too
        expect(page.get_by_test_id("chat-log")).to_contain_text("医师 ·")
    # Each visit page at the other size too (the patient's on a desktop, the doctor's on a phone), call running.
    for page, name, size in ((doctor, "doctor", PHONE), (patient, "patient", DESKTOP)):
        page.set_viewport_size(size)
        screens(page, f"{name}-visit-call-chinese-{size['width']}", full_page=False)

    # The choice is remembered: the next page the patient opens is in the language last chosen.
    switch_and_check(patient, "en", "Switch to English", "Live", db, visit_id)
    later = patient.context.new_page()
    later.goto("/patient")
    expect(later.locator("html")).to_have_attribute("lang", "en")
    later.close()

    for page in (doctor, patient):
        assert page.errors == [], page.errors  # type: ignore[attr-defined]
        page.get_by_test_id("leave").click()
        expect(page.get_by_test_id("call")).to_have_attribute("data-call-state", "ended")
        page.context.close()
