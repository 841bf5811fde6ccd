"""axe-core over every page (issue 14): each area's pages opened by the role they are for, in zh-CN and English,
at 390 px and 1366 px, checked as they stand once loaded; no serious or critical violation. The states met along
the other browser tests are checked at each screenshot (`conftest.Screens`); the run prints the counts."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, expect

from hospital.web.pages import PAGES
from tests.e2e.axe import audit, blocking
from tests.e2e.conftest import DESKTOP, PHONE, new_page
from tests.e2e.test_clinician_faces import log_in
from tests.e2e.test_every_page import LOGINS

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1366"])
@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("area", ["public", "patient", "doctor", "pharmacist", "admin"])
def test_every_page_has_no_serious_or_critical_axe_violation(plain_browser: Browser, hospital_url: str, area: str,
                                                             language: str, viewport: dict[str, int]) -> None:
    context, page = new_page(plain_browser, hospital_url, viewport)
    if area in LOGINS:
        log_in(page, *LOGINS[area])
    context.add_cookies([{"name": "lang", "value": language, "url": hospital_url}])
    problems: list[str] = []
    for spec in (p for p in PAGES if p.area == area):
        url = re.sub(r"\{[a-z_]+:uuid\}", str(uuid.uuid4()), spec.path)
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("[aria-busy=true]")).to_have_count(0)  # checked once every loading state ended
        problems += [f"{url}: {p}" for p in blocking(audit(page, f"{area} {language} {viewport['width']} {url}"))]
    context.close()
    assert problems == [], "\n".join(problems)
