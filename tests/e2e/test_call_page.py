"""The call page of a visit (/visits/{id}/call) in the browser: a page like the others, through base.html (the
hospital's header, the language switch), its texts in the page's language from the catalogues, and who may join
decided by the API. The call itself, live between two browsers, is tests/integration/video/test_video_call_browser.py
and the journey's."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import PHONE, Screens, new_page
from tests.e2e.test_clinician_faces import log_in

pytestmark = pytest.mark.browser


def test_the_call_page_has_the_shared_header_and_speaks_the_page_language(plain_browser: Browser, hospital_url: str,
                                                                         screens: Screens) -> None:
    context, page = new_page(plain_browser, hospital_url, PHONE)
    page.goto(f"/visits/{uuid.uuid4()}/call")
    expect(page.get_by_test_id("hospital-name")).to_have_text("示范互联网医院")
    expect(page.get_by_role("heading", level=1)).to_have_text("视频问诊")
    expect(page.locator("body")).to_have_attribute("data-call-state", "refused")  # nobody logged in
    expect(page.get_by_test_id("call-status")).to_have_text("请先登录。")
    expect(page.get_by_test_id("leave")).to_have_text("离开通话")

    page.get_by_role("button", name="Switch to English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Video consultation")
    expect(page.get_by_test_id("call-status")).to_have_text("Log in first.")
    expect(page.get_by_test_id("leave")).to_have_text("Leave the call")
    screens(page, "call-page-english")
    page.get_by_role("button", name="切换为中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()


def test_the_api_refuses_a_call_that_is_not_the_caller_s_and_the_page_says_so(plain_browser: Browser,
                                                                             hospital_url: str) -> None:
    context, page = new_page(plain_browser, hospital_url, PHONE)
    log_in(page, "13800138000", "patient-demo-2026")
    page.goto(f"/visits/{uuid.uuid4()}/call")  # no such visit of hers: the page is a shell, the API answers 404
    expect(page.locator("body")).to_have_attribute("data-call-state", "refused")
    expect(page.get_by_test_id("call-status")).not_to_have_text("请先登录。")
    expect(page.get_by_test_id("call-status")).not_to_be_empty()
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()
