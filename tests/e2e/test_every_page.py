"""Every page, opened by the role it is for on a phone (patients, the public) or a desk (clinicians, the
administrator): it renders its heading and the hospital's name, and no script fails. Whatever an API refuses
is shown on the page as an alert; an exception in a module would be a silent failure, and fails here."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, expect

from hospital.web.pages import PAGES
from tests.e2e.conftest import DESKTOP, PHONE, new_page
from tests.e2e.test_clinician_faces import log_in

pytestmark = pytest.mark.browser

LOGINS = {"patient": ("13800138000", "patient-demo-2026"), "doctor": ("doctor.wang", "doctor-demo-2026"),
          "pharmacist": ("pharmacist.li", "pharmacist-demo-2026"), "admin": ("admin", "admin-demo-2026")}


@pytest.mark.parametrize("area", ["public", "patient", "doctor", "pharmacist", "admin"])
def test_every_page_of_an_area_renders_without_a_script_error(plain_browser: Browser, hospital_url: str,
                                                             area: str) -> None:
    context, page = new_page(plain_browser, hospital_url, PHONE if area in ("public", "patient") else DESKTOP)
    if area in LOGINS:
        log_in(page, *LOGINS[area])
    for spec in (p for p in PAGES if p.area == area):
        url = re.sub(r"\{[a-z_]+:uuid\}", str(uuid.uuid4()), spec.path)
        page.goto(url)
        expect(page).to_have_url(re.compile(re.escape(url) + r"(\?.*)?$"))  # not sent away to log in
        expect(page.get_by_test_id("hospital-name")).to_have_text("示范互联网医院")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator("[aria-busy=true]")).to_have_count(0)  # every loading state ended
        assert page.errors == [], (url, page.errors)  # type: ignore[attr-defined]
    context.close()
