"""Issue 6 in real browsers: Debian's Chromium, its camera a .y4m made from a photo, joins a visit's call page on
the demo hospital served by uvicorn (SQLite). The enrolled doctor's face keeps the visit live; another man in
the doctor's chair pauses it within the grace period, both pages say so, and the pause is on the audit trail.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_steps import FACES, accepted_visit, call_page, face_checks, launch, playwright, query, wait_for, webcam_y4m

from tests.demo_server import demo_server

SAMPLE_S, GRACE_S = 1, 3

pytestmark = pytest.mark.browser
__all__ = ["launch", "playwright"]  # fixtures, from browser_steps


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`hospital demo` on a free port (SQLite in a temporary data directory), face watch every second, 3 s grace."""
    data = tmp_path_factory.mktemp("hospital")
    env = {"HOSPITAL_SHARED_DIR": str(FACES.parent), "HOSPITAL_VIDEO_SAMPLE_INTERVAL": str(SAMPLE_S),
           "HOSPITAL_VIDEO_GRACE": str(GRACE_S), "HOSPITAL_FACE_WORKERS": "1"}
    with demo_server(data, env, probe="/ready") as url:
        yield url, data / "hospital.db"


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

    # Switching the language mid-call keeps the call (issue 14): the page says its texts again in place, no reload,
    # the same peer connection, and the doctor never sees the patient leave.
    patient.evaluate("window.sameDocument = true")
    rejoins = patient.get_attribute("body", "data-reconnects")
    patient.get_by_role("button", name="Switch to English").click()
    patient.wait_for_selector("html[lang=en]")
    patient.wait_for_selector("[data-testid=call-status]:text-is('Live')")
    assert patient.get_by_test_id("leave").inner_text() == "Leave the call"
    assert patient.get_by_role("heading", level=1).inner_text() == "Video consultation"
    assert patient.evaluate("window.sameDocument") is True  # not reloaded: the call is the one that was live
    assert patient.get_attribute("body", "data-call-state") == "live"
    assert patient.get_attribute("body", "data-reconnects") == rejoins
    assert patient.evaluate("document.getElementById('remote-video').srcObject.active") is True
    patient.get_by_role("button", name="切换为中文").click()
    patient.wait_for_selector("[data-testid=call-status]:text-is('通话中')")
    assert patient.evaluate("window.sameDocument") is True and patient.get_attribute("body", "data-call-state") == "live"
    assert doctor.get_attribute("body", "data-call-state") == "live"
    assert "离开" not in doctor.get_by_test_id("call-notice").inner_text()  # the doctor saw nobody leave


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

    # The stranger cannot verify his way back in: the attempt is refused and the visit stays paused. The page
    # answers a liveness challenge (its moves shown in the notice, frames from the camera), never one still picture.
    [(challenges,)] = query(db, "SELECT count(*) FROM face_challenge")
    doctor.click("[data-testid=reverify]")
    doctor.wait_for_selector("[data-testid=call-notice][data-step=rest]", timeout=30_000)
    doctor.wait_for_selector("[data-testid=call-notice]:has-text('FACE-02')", timeout=60_000)
    assert query(db, "SELECT count(*) FROM face_challenge") == [(challenges + 1,)]
    assert doctor.get_attribute("body", "data-call-state") == "paused"
    assert query(db, "SELECT paused FROM visit WHERE id = ?", uuid.UUID(visit_id).hex) == [(1,)]

