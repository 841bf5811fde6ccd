"""In the browser: a page renews the tab's token shortly before it expires, so a long visit or video call does
not end in a 401 (POST /api/auth/renew; the server still ends the session at its maximum, SEC-01)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import DESKTOP, new_page
from tests.e2e.test_clinician_faces import log_in

pytestmark = [pytest.mark.browser, pytest.mark.requirement("SEC-01")]


def test_a_page_renews_a_token_about_to_expire(plain_browser: Browser, hospital_url: str) -> None:
    context, page = new_page(plain_browser, hospital_url, DESKTOP)
    log_in(page, "13800138000", "patient-demo-2026")
    before = page.evaluate("JSON.parse(sessionStorage.getItem('hospital.session'))")
    assert before["role"] == "patient" and before["expires_at"] > 0
    # Two minutes left: the page renews at once when it starts.
    page.evaluate("""() => {
        const s = JSON.parse(sessionStorage.getItem('hospital.session'));
        s.expires_at = Date.now() + 120000;
        sessionStorage.setItem('hospital.session', JSON.stringify(s));
    }""")
    with page.expect_response("**/api/auth/renew") as renewal:
        page.reload()
    assert renewal.value.status == 200
    page.wait_for_function("JSON.parse(sessionStorage.getItem('hospital.session')).expires_at > Date.now() + 600000")
    after = page.evaluate("JSON.parse(sessionStorage.getItem('hospital.session'))")
    assert after["token"] != before["token"] and after["role"] == "patient"
    expect(page.locator("#page-error")).to_be_hidden()
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()
