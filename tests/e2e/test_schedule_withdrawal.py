"""停诊 in the browser (REV-06): the doctor withdraws a schedule with a reason, and the patient who had booked it
sees the notice on their home page and on the visit's page, the booking cancelled."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import PHONE, Screens, new_page
from tests.e2e.test_clinician_faces import log_in

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _token(url: str, username: str, password: str) -> dict[str, str]:
    response = httpx.post(f"{url}/api/auth/login", json={"username": username, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_the_patient_sees_the_notice_of_a_withdrawn_schedule(plain_browser: Browser, hospital_url: str,
                                                             screens: Screens) -> None:
    patient = _token(hospital_url, "13800138000", "patient-demo-2026")
    prior = httpx.get(f"{hospital_url}/api/prior-diagnoses", headers=patient, timeout=30).json()[0]
    doctor = _token(hospital_url, "doctor.wang", "doctor-demo-2026")
    # A session of this test's own: the demo's sessions are shared by the browser suite, and other tests book the
    # demo patient into them (REV-06 allows one booking per session). Evening, three days on: no demo session then.
    day = datetime.now(SHANGHAI).date() + timedelta(days=3)
    published = httpx.post(f"{hospital_url}/api/schedules", headers=doctor, timeout=30, json={
        "department_code": "03.04", "starts_at": datetime.combine(day, time(19), SHANGHAI).isoformat(),
        "ends_at": datetime.combine(day, time(20), SHANGHAI).isoformat(), "capacity": 2})
    assert published.status_code == 201, published.text
    schedule = published.json()
    booked = httpx.post(f"{hospital_url}/api/visits", headers=patient, timeout=30, json={
        "schedule_id": schedule["schedule_id"], "prior_diagnosis_id": prior["prior_diagnosis_id"],
        "mode": "text", "fee_cny": schedule["prices"]["text"], "fee_accepted": True})
    assert booked.status_code == 201, booked.text
    withdrawn = httpx.post(f"{hospital_url}/api/schedules/{schedule['schedule_id']}/withdrawal", headers=doctor,
                           json={"reason": "医生参加紧急会诊"}, timeout=30)
    assert withdrawn.status_code == 200, withdrawn.text

    context, page = new_page(plain_browser, hospital_url, PHONE)
    log_in(page, "13800138000", "patient-demo-2026")
    page.goto("/patient")
    notice = page.get_by_test_id("visit-notice")
    expect(notice).to_contain_text("停诊通知")
    expect(notice).to_contain_text("医生参加紧急会诊")
    screens(page, "patient-sees-withdrawal-notice")
    page.goto(f"/patient/visits/{booked.json()['visit_id']}")
    expect(page.get_by_test_id("visit-notice")).to_contain_text("预约已取消")
    screens(page, "visit-page-shows-withdrawal-notice")
    assert page.errors == [], page.errors  # type: ignore[attr-defined]
    context.close()
