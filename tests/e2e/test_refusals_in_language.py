"""Refusals in the page's language (issue 14), in Chromium as a patient on a phone would meet them: the heading is
the refusal's own reason (a wrong password says the password is wrong, a phone already registered says so), the
detail is in the page's language, the rule ID small; on a Chinese page no English sentence appears after a
refusal (registration, a diagnosis too old, booking; a prescription finding is checked in test_journey)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from hospital.demo import DEMO_INSTITUTION_REGISTRATION
from tests.e2e.conftest import PHONE, Screens, new_page
from tests.e2e.registration import register
from tests.e2e.test_journey import no_english, outpatient_record
from tests.helpers import hospital_today

pytestmark = [pytest.mark.browser]

def wrong_password(page: Page, label_user: str, label_password: str, button: str) -> Locator:
    page.get_by_label(label_user).fill("doctor.wang")
    page.get_by_label(label_password).fill("not-his-password-1")
    page.get_by_role("button", name=button, exact=True).click()
    return page.locator("[data-role=form-error]").get_by_role("alert")


def test_a_wrong_password_says_the_password_is_wrong_in_chinese_and_in_english(
    plain_browser: Browser, hospital_url: str, screens: Screens
) -> None:
    context, page = new_page(plain_browser, hospital_url, PHONE)
    page.goto("/login")
    refusal = wrong_password(page, "手机号或用户名", "密码", "登录")
    expect(refusal.locator(".error-heading")).to_have_text("用户名或密码不正确")
    expect(refusal).not_to_contain_text("登录已失效")  # not a heading guessed from the 401
    no_english(refusal)
    screens(page, "wrong-password-zh")
    page.goto("/login?lang=en")
    refusal = wrong_password(page, "Phone number or username", "Password", "Log in")
    expect(refusal.locator(".error-heading")).to_have_text("Wrong username or password")
    screens(page, "wrong-password-en")
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()


def test_a_patient_meets_every_refusal_in_chinese(plain_browser: Browser, hospital_url: str, screens: Screens,
                                                  tmp_path: Path) -> None:
    context, page = new_page(plain_browser, hospital_url, PHONE)
    # Registration: the demo patient's phone is taken.
    register(page, name="韩梅梅", id_prefix17="11010519900815004", phone="13800138000", password="hanmeimei-2026")
    refusal = page.locator("[data-role=form-error]").get_by_role("alert")
    expect(refusal.locator(".error-heading")).to_have_text("该手机号已注册")
    expect(refusal).to_contain_text("PAT-01")
    no_english(refusal)
    screens(page, "phone-already-registered")
    page.get_by_label("手机号").fill("13900139078")  # 13900139077 is test_patient_offers.py's (one demo for all)
    page.get_by_role("button", name="注册并继续").click()
    expect(page).to_have_url(re.compile(r"/patient/consent"))
    page.get_by_label("我已阅读并理解上述内容").check()
    page.get_by_role("button", name="我已阅读并同意").click()
    expect(page).to_have_url(re.compile(r"/patient/diagnoses"))

    # A diagnosis three years old: the reason in Chinese, with its dates and window.
    diagnosed = hospital_today() - timedelta(days=3 * 365)
    file_diagnosis(page, tmp_path / "old.png", diagnosed.isoformat())
    old = page.get_by_test_id("prior-diagnosis").filter(has_text=diagnosed.strftime("%Y"))
    eligibility = old.get_by_test_id("eligibility")
    expect(eligibility).to_contain_text("既往诊断已超过复诊有效期")
    expect(eligibility).to_contain_text("请前往实体医院重新就诊")
    expect(eligibility).to_contain_text("REV-02")
    no_english(eligibility)
    screens(page, "diagnosis-too-old")

    # Booking: a recent diagnosis books once; the same session again is refused (REV-06), in Chinese.
    file_diagnosis(page, tmp_path / "recent.png", (hospital_today() - timedelta(days=120)).isoformat())
    for attempt in range(2):
        page.goto("/patient/diagnoses")
        page.get_by_role("link", name="用此诊断预约").first.click()
        page.get_by_test_id("schedule-option").filter(has_text="心血管内科专业").first.get_by_role("radio").check()
        page.get_by_label("视频复诊").check()
        page.get_by_label("我已知晓并同意支付上述诊查费").check()  # the fee is accepted before booking (INS-03)
        page.get_by_role("button", name="确认预约").click()
        if attempt == 0:
            expect(page).to_have_url(re.compile(r"/patient/visits/[0-9a-f-]{36}"))
    refusal = page.locator("[data-role=form-error]").get_by_role("alert")
    expect(refusal.locator(".error-heading")).to_have_text("您已预约了这个时段")  # the rule's reason, not "conflict"
    expect(refusal).to_contain_text("REV-06")
    no_english(refusal)
    screens(page, "booking-refused")

    # A diagnosis withdrawn (in another tab) while its booking page was open: its own sentence, not REV-01's
    # general one, and in Chinese.
    diagnosed = hospital_today() - timedelta(days=150)
    file_diagnosis(page, tmp_path / "withdrawn.png", diagnosed.isoformat())
    page.get_by_test_id("prior-diagnosis").filter(has_text=diagnosed.strftime("%Y/%m/%d")).get_by_role(
        "link", name="用此诊断预约").click()
    prior = page.url.split("prior=")[1].split("&")[0]
    page.get_by_test_id("schedule-option").filter(has_text="心血管内科专业").last.get_by_role("radio").check()
    page.get_by_label("视频复诊").check()
    page.get_by_label("我已知晓并同意支付上述诊查费").check()
    withdrawn = page.evaluate("""async (prior) => {
        const token = JSON.parse(sessionStorage.getItem('hospital.session')).token;
        const answer = await fetch(`/api/prior-diagnoses/${prior}/withdrawal`, {method: 'POST',
          headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json'}, body: '{}'});
        return answer.status; }""", prior)
    assert withdrawn in (200, 204), withdrawn
    page.get_by_role("button", name="确认预约").click()
    refusal = page.locator("[data-role=form-error]").get_by_role("alert")
    expect(refusal.locator(".error-heading")).to_have_text("该既往诊断已撤回")
    expect(refusal.locator(".detail")).to_have_text("您已撤回这份既往诊断，如需预约请重新上传。")
    expect(refusal).to_contain_text("REV-01")
    no_english(refusal)
    screens(page, "booking-on-a-withdrawn-diagnosis")
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()


def file_diagnosis(page: Page, document: Path, diagnosed_on: str) -> None:
    page.goto("/patient/diagnoses")
    expect(page.locator("#diagnosis-names option[value='原发性高血压']")).to_have_count(1)  # the list has arrived
    page.get_by_label("诊断名称").fill("原发性高血压")
    expect(page.locator("#icd10_code")).to_have_value("I10")  # the code comes from the list (REV-02), never typed
    page.get_by_label("诊断机构").fill("示范市第一人民医院")
    page.get_by_label("医疗机构登记号").fill(DEMO_INSTITUTION_REGISTRATION)
    page.get_by_label("诊断日期").fill(diagnosed_on)
    page.get_by_label("资料类型").select_option("outpatient_record")
    page.get_by_label("病历资料（照片或PDF）").set_input_files(outpatient_record(document, "I10 hypertension"))
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_test_id("prior-diagnosis").filter(has_text=diagnosed_on[:4]).first).to_be_visible()


def test_every_rule_page_answers_in_the_page_language(plain_browser: Browser, hospital_url: str) -> None:
    context, page = new_page(plain_browser, hospital_url, PHONE)
    page.goto("/problems/REV-02")
    expect(page.get_by_role("heading", level=1)).to_have_text("既往诊断不能用于在线复诊")
    expect(page.get_by_test_id("problem-rule-id")).to_contain_text("REV-02")
    page.goto("/problems/REV-02?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("The prior diagnosis cannot found a revisit")
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()


def test_the_connector_page_gives_its_verdict_and_explains_its_figures(plain_browser: Browser, hospital_url: str,
                                                                        screens: Screens) -> None:
    from tests.e2e.conftest import DESKTOP
    from tests.e2e.test_clinician_faces import log_in

    context, page = new_page(plain_browser, hospital_url, DESKTOP)
    log_in(page, "admin", "admin-demo-2026")
    page.goto("/admin/connector")
    health = page.get_by_test_id("connector-health")
    expect(health).to_be_visible()
    status = page.evaluate("""async () => (await fetch('/api/admin/connector/', {headers: {Authorization:
        'Bearer ' + JSON.parse(sessionStorage.getItem('hospital.session')).token}})).json()""")
    # The demo reports to its in-process platform: the verdict is the API's, in red or green.
    expect(health).to_have_attribute("data-health", "ok" if status["health"]["ok"] else "alarm")
    lag = page.get_by_test_id("connector-lag").inner_text()
    assert not re.search(r"\d+\.\d+\s*秒", lag), lag  # minutes (or whole seconds under one), never "825.4 秒"
    expect(page.get_by_test_id("connector-lag")).to_contain_text("“—”表示没有等待上报的事件")
    expect(page.get_by_test_id("connector-delivery-lag")).to_contain_text("p50 为中位数")
    screens(page, "connector-verdict")
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()
