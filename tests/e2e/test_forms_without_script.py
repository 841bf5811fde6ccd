"""A form pressed before its script has loaded (a slow phone network) sends nothing (issue 14): every form a page
template writes says method="post" and renders its submit disabled until `ui.bindForm` takes the form over, so
the browser never sends it itself as a GET with the fields (a password) in the URL. Each page is opened with its
ES modules blocked; every form is filled, its submit clicked and Enter pressed in a field: no request carries a
field, no URL the password, and the page stays where it was. With the scripts, the same login works."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Request, expect

from hospital.web.pages import PAGES
from tests.e2e.conftest import PHONE, Screens, new_page

pytestmark = pytest.mark.browser

SECRET = "Secret-Pa55word"


def test_no_page_form_is_sent_before_its_script_loads(plain_browser: Browser, hospital_url: str,
                                                      screens: Screens) -> None:
    context, page = new_page(plain_browser, hospital_url, PHONE)
    context.route(re.compile(r".*\.js(\?.*)?$"), lambda route: route.abort())  # the scripts never arrive
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if request.resource_type == "document" else None)
    forms_tried = 0
    for spec in PAGES:
        url = re.sub(r"\{[a-z_]+:uuid\}", str(uuid.uuid4()), spec.path)
        page.goto(url)
        sent.clear()
        for form in page.locator("main form").all():
            forms_tried += 1
            for field in form.locator("input[type=text], input[type=password], input[type=tel], input:not([type]), "
                                      "textarea").all():
                if field.is_visible():
                    field.fill(SECRET)
            for button in form.locator("button[type=submit]").all():
                expect(button).to_be_disabled()  # until the script takes the form over
                assert form.get_attribute("method") == "post"
                if button.is_visible():
                    button.click(force=True)  # a press on a button that is not ready yet
            typed = form.locator("input[type=text], input[type=password], input[type=tel], input:not([type])")
            if typed.count() and typed.first.is_visible():
                typed.first.press("Enter")  # implicit submission
        page.wait_for_timeout(200)  # a navigation, had one started, would be in `sent` by now
        assert [r.url for r in sent] == [], f"{url}: a form was sent without its script"
        assert SECRET not in page.url and page.url.split("?")[0].endswith(url)
        if spec.name == "login":
            screens(page, "login-without-script")
    assert forms_tried >= 15  # every template form was tried: login, register, booking, the visit pages …
    context.unroute(re.compile(r".*\.js(\?.*)?$"))

    # With its script the same form works, and the password travels in a POST body, never in a URL.
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.goto("/login")
    expect(page.get_by_role("button", name="登录")).to_be_enabled()
    page.get_by_label("手机号或用户名").fill("13800138000")
    page.get_by_label("密码").fill("patient-demo-2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)
    assert not [u for u in seen if "patient-demo-2026" in u]
    context.close()
