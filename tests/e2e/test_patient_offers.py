"""The patient's pages offer only what will be accepted, and the journey has no dead ends (issue 14):

booking lists only the sessions the chosen diagnosis can be booked into (the others summed up with the reason in
the patient's words), only the session's modes, at the fee the disclosure publishes, which the patient accepts; a
new patient is told registration succeeded; a diagnosis no visit used is withdrawn; the home page shows progress.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from hospital.demo import DEMO_INSTITUTION_REGISTRATION
from tests.e2e.conftest import DESKTOP, PHONE, Screens, new_page
from tests.e2e.registration import register
from tests.e2e.test_clinician_faces import log_in
from tests.e2e.test_journey import outpatient_record
from tests.helpers import hospital_today

pytestmark = [pytest.mark.browser, pytest.mark.requirement("INS-03", "REV-01", "REV-02", "REV-06")]


def _published_fees(hospital_url: str) -> dict[str, str]:
    disclosure = httpx.get(f"{hospital_url}/api/institution/disclosure", timeout=30).json()
    return {p["code"].removeprefix("consult_"): p["price_cny"] for p in disclosure["prices"]["services"]
            if p["code"].startswith("consult_")}


def _book_page(page: Page) -> None:
    page.goto("/patient/book")
    expect(page.get_by_test_id("schedule-option").first).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1366"])
def test_booking_lists_only_eligible_sessions_at_the_published_fee(plain_browser: Browser, hospital_url: str,
                                                                   screens: Screens, viewport: dict[str, int]) -> None:
    fees = _published_fees(hospital_url)
    context, page = new_page(plain_browser, hospital_url, viewport)
    log_in(page, "13800138000", "patient-demo-2026")  # hypertension: 心血管内科 (03.04), not 03.07
    _book_page(page)
    options = page.get_by_test_id("schedule-option")
    departments = {options.nth(i).get_attribute("data-department") for i in range(options.count())}
    assert departments == {"03.04"}, departments  # never an ineligible session
    hidden = page.get_by_test_id("schedules-hidden")
    expect(hidden).to_contain_text("不诊治这一疾病")  # the reason, in the patient's words, before anything is pressed
    expect(hidden).to_contain_text("REV-02")
    # only the session's modes, each at the disclosure's fee; the fee shown is the fee table's
    page.get_by_label("图文复诊").check()
    expect(page.get_by_test_id("fee")).to_have_text(f"图文诊查费：¥{fees['text']}")
    page.get_by_label("视频复诊").check()
    expect(page.get_by_test_id("fee")).to_have_text(f"视频诊查费：¥{fees['video']}")
    assert fees["video"] == "30.00" and fees["text"] == "20.00"
    screens(page, f"book-eligible-only-{viewport['width']}")
    # without accepting the fee nothing is booked
    page.get_by_role("button", name="确认预约").click()
    expect(page).to_have_url(re.compile(r"/patient/book"))
    assert page.get_by_label("我已知晓并同意支付上述诊查费").evaluate("el => !el.validity.valid")
    assert page.errors == [], page.errors  # type: ignore[attr-defined]
    context.close()


def test_a_new_patient_is_told_of_registration_sees_progress_and_withdraws_an_unused_diagnosis(
        plain_browser: Browser, hospital_url: str, screens: Screens, tmp_path: Path) -> None:
    context, page = new_page(plain_browser, hospital_url, PHONE)
    register(page, name="韩梅梅", id_prefix17="11010519870305004", phone="13900139077", password="hanmm-2026-pw")
    expect(page.get_by_test_id("registered")).to_contain_text("注册成功")
    expect(page.locator("main")).not_to_contain_text("文本指纹")
    screens(page, "registered-then-consent", full_page=False)
    page.get_by_label("我已阅读并理解上述内容").check()
    page.get_by_role("button", name="我已阅读并同意").click()
    expect(page).to_have_url(re.compile(r"/patient/diagnoses"))

    expect(page.locator("#diagnosis-names option[value='2型糖尿病']")).to_have_count(1)  # the list has arrived
    page.get_by_label("诊断名称").fill("2型糖尿病")
    expect(page.locator("#icd10_code")).to_have_value("E11")
    page.get_by_label("诊断机构").fill("示范市第一人民医院")
    page.get_by_label("医疗机构登记号").fill(DEMO_INSTITUTION_REGISTRATION)
    page.get_by_label("诊断日期").fill(hospital_today().replace(day=1).isoformat())
    page.get_by_label("病历资料（照片或PDF）").set_input_files(outpatient_record(tmp_path / "e11.png", "E11 diabetes"))
    page.get_by_role("button", name="上传").click()
    diagnosis = page.get_by_test_id("prior-diagnosis").filter(has_text="2型糖尿病")
    expect(diagnosis).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("ICD")

    page.goto("/patient")  # progress: consent and diagnosis done, booking next
    steps = page.locator("#steps li")
    expect(steps.nth(0)).to_have_attribute("data-state", "done")
    expect(steps.nth(1)).to_have_attribute("data-state", "done")
    expect(steps.nth(2)).to_have_attribute("data-state", "next")
    expect(steps.nth(3)).to_have_attribute("data-state", "todo")
    screens(page, "home-progress")

    page.goto("/patient/diagnoses")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("prior-diagnosis").filter(has_text="2型糖尿病").get_by_test_id("withdraw-diagnosis").click()
    expect(page.get_by_role("status").filter(has_text="已撤回诊断")).to_be_visible()
    expect(page.get_by_test_id("prior-diagnosis")).to_have_count(0)
    screens(page, "diagnosis-withdrawn")
    assert page.errors == [], page.errors  # type: ignore[attr-defined]
    context.close()
