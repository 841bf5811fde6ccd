"""The public pages in the browser: the disclosure (INS-03) lists everything the requirement names, the
approved name heads every page, and the language switch turns the page into English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import DESKTOP, PHONE, Screens, new_page

pytestmark = [pytest.mark.browser, pytest.mark.requirement("INS-03")]


def test_the_disclosure_page_shows_every_item_ins_03_names(plain_browser: Browser, hospital_url: str,
                                                          screens: Screens) -> None:
    context, page = new_page(plain_browser, hospital_url, PHONE)
    page.goto("/disclosure")
    expect(page.get_by_test_id("hospital-name")).to_have_text("示范互联网医院")
    licence = page.get_by_test_id("disclosure-licence")
    expect(licence).to_contain_text("PDY0001-310115-DEMO")
    expect(licence).to_contain_text("示范市卫生健康委员会")
    expect(licence).to_contain_text(re.compile(r"\d{4}/\d{2}/\d{2} 至 \d{4}/\d{2}/\d{2}"))
    expect(licence).to_contain_text("有效")
    departments = page.get_by_test_id("disclosure-departments")
    expect(departments).to_contain_text("心血管内科专业")
    expect(departments).not_to_contain_text("外科")  # on record, not approved (INS-02)
    clinicians = page.get_by_test_id("disclosure-clinicians")
    for text in ("王医生", "主任医师", "110310000000001", "李药师", "YS2010310001", "电子证照"):
        expect(clinicians).to_contain_text(text)
    # INS-03: each clinician's practice registration with its certificate's validity (the staff credentials). The
    # e-credential column names the signing certificate only once the hospital CA has issued one to the clinician's
    # device (RX-05, device-held keys; tests/integration/test_disclosure.py), else "未签发".
    for name in ("王医生", "李药师"):
        expect(clinicians.get_by_role("row").filter(has_text=name)).to_contain_text(
            re.compile(r"执业证书有效期至 \d{4}/\d{2}/\d{2}"))
    service = page.get_by_test_id("disclosure-service")
    for text in ("08:00–20:00", "视频复诊", "图文复诊", "24小时内回复"):  # only modes booking accepts (INS-03)
        expect(service).to_contain_text(text)
    expect(page.get_by_test_id("disclosure-schedules")).to_be_visible()
    prices = page.get_by_test_id("disclosure-prices")
    for text in ("图文复诊诊查费", "¥20.00", "苯磺酸氨氯地平片", "¥4.90"):
        expect(prices).to_contain_text(text)
    complaints = page.get_by_test_id("disclosure-complaints")
    expect(complaints).to_contain_text("021-5888-0000")
    expect(complaints.get_by_role("link", name="tousu@demo-hospital.example.cn")).to_be_visible()
    expect(page.get_by_test_id("disclosure-disputes").locator("li")).to_have_count(5)
    screens(page, "disclosure-phone")
    page.set_viewport_size(DESKTOP)
    screens(page, "disclosure-desktop", full_page=False)
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()


def test_the_language_switch_turns_the_page_into_english_and_back(plain_browser: Browser, hospital_url: str,
                                                                  screens: Screens) -> None:
    context, page = new_page(plain_browser, hospital_url, PHONE)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("button", name="Switch to English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to 示范互联网医院")
    page.get_by_role("link", name="Disclosure", exact=True).first.click()
    expect(page.get_by_test_id("disclosure-licence")).to_contain_text("Licence number")
    expect(page.get_by_test_id("disclosure-service")).to_contain_text("Video follow-up")
    screens(page, "disclosure-english")
    page.get_by_role("button", name="切换为中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    context.close()


def test_a_refused_registration_names_the_rule_and_marks_the_field(plain_browser: Browser, hospital_url: str,
                                                                   screens: Screens) -> None:
    context, page = new_page(plain_browser, hospital_url, PHONE)
    page.goto("/patient/register")
    page.get_by_label("真实姓名").fill("李四")
    page.get_by_label("居民身份证号").fill("110105194912310021")  # wrong check digit
    page.get_by_label("手机号").fill("13900139000")
    page.get_by_label("设置密码").fill("secret-2026")
    page.get_by_label("再次输入密码").fill("secret-2026")
    page.get_by_role("button", name="注册并继续").click()
    alert = page.get_by_role("alert").filter(has_text="PAT-01")
    # The rule's own reason and what to do, in Chinese on a Chinese page (issue 14), not its English sentence.
    expect(alert.locator(".error-heading")).to_have_text("居民身份证号不正确")
    expect(alert).to_contain_text("校验位")
    expect(alert).not_to_contain_text("check digit")
    expect(page.get_by_label("居民身份证号")).to_have_attribute("aria-invalid", "true")
    screens(page, "register-refused")
    context.close()
