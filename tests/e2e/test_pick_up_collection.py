"""A pick-up collected at the pharmacy counter, in Chromium (RX-08, issue 14).

Set up through the API as tests/integration/prescriptions does: a booked and accepted visit of the demo patient,
their allergy statement (RX-04), a prescription signed with the doctor's device key, approved by the pharmacist's
signed review (RX-05, RX-06). Then in the pages, in zh-CN: the patient keeps 到医院药房自取 for it; the pharmacist
dispenses it for pick-up (no courier asked) and records on their page, in 待取药, that the patient's agent took it;
the patient's page shows 已取药 and who took it. A second screen of the pharmacy, opened while it was still
waiting, records it again: refused in Chinese, with no English sentence, and nothing recorded twice. Every state is
checked by axe-core (conftest.Screens); the 待取药 section and the patient's collected prescription are
screenshotted at 390 and 1366 px.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, Screens, new_page
from tests.e2e.test_call_language_switch import live_visit
from tests.e2e.test_clinician_faces import log_in
from tests.e2e.test_journey import no_english
from tests.integration.prescriptions.conftest import reviewing_pharmacist, states_no_known_allergies, write
from tests.integration.prescriptions.helpers import review

pytestmark = [pytest.mark.browser, pytest.mark.requirement("RX-08")]

AGENT = "韩梅梅"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def approved_for_pick_up(url: str) -> tuple[dict[str, Any], str]:
    """The approved prescription of the demo patient, and the face-verified pharmacist's token."""
    visit_id, patient_token, doctor_token = live_visit(url)

    async def prescribed_and_approved() -> tuple[dict[str, Any], str]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            await states_no_known_allergies(client, _bearer(patient_token))  # type: ignore[arg-type]
            written = await write(client, _bearer(doctor_token), visit_id)  # type: ignore[arg-type]
            assert written.status_code == 201, written.text
            pharmacist = await reviewing_pharmacist(client)  # type: ignore[arg-type]
            approved = await review(client, pharmacist, written.json(), "approve")  # type: ignore[arg-type]
            assert approved.status_code == 200, approved.text
            return approved.json(), pharmacist["Authorization"].removeprefix("Bearer ")

    with ThreadPoolExecutor(1) as worker:  # Playwright's event loop holds this thread
        rx, pharmacist_token = worker.submit(asyncio.run, prescribed_and_approved()).result()
    return rx, pharmacist_token


def pharmacy_screen(browser: Browser, url: str, token: str) -> Page:
    """The pharmacist's page in a tab holding the face-verified session as /pharmacist/verify leaves it. The
    session carries its expiry: two screens of one session would otherwise both renew the same token at once."""
    context, page = new_page(browser, url, DESKTOP)
    session = json.dumps({"token": token, "role": "pharmacist"})
    context.add_init_script(f"try {{ if (!sessionStorage.getItem('hospital.session')) sessionStorage.setItem("
                            f"'hospital.session', JSON.stringify({{...{session}, expires_at: Date.now() + 600000}})); }}"
                            f" catch (e) {{}}")
    page.goto("/pharmacist")
    expect(page.get_by_test_id("practice-session")).to_contain_text("人脸核验有效")
    return page


def collections(page: Page) -> Locator:
    return page.locator("section[aria-labelledby=collection-heading]")


def test_a_pick_up_collected_once_at_the_counter_shown_as_collected(
        plain_browser: Browser, hospital_url: str, screens: Screens) -> None:
    rx, pharmacist_token = approved_for_pick_up(hospital_url)
    number = rx["prescription_number"]

    # The patient keeps pick-up at the pharmacy for it (RX-08).
    _, patient = new_page(plain_browser, hospital_url, PHONE)
    log_in(patient, "13800138000", "patient-demo-2026")
    patient.goto("/patient/prescriptions")
    mine = patient.get_by_test_id("prescription").filter(has_text=number)
    mine.get_by_label("到医院药房自取").check()
    mine.get_by_role("button", name="保存取药方式").click()
    expect(patient.get_by_role("status").filter(has_text="已保存。")).to_be_visible()
    expect(mine.get_by_test_id("fulfilment")).to_have_text("到医院药房自取")
    expect(mine.get_by_test_id("fulfilment")).to_have_attribute("data-method", "pickup")

    # The pharmacist dispenses it for pick-up: no courier is asked for a prescription nobody ships.
    counter = pharmacy_screen(plain_browser, hospital_url, pharmacist_token)
    to_dispense = counter.locator("#dispensing").get_by_test_id("prescription").filter(has_text=number)
    expect(to_dispense.get_by_role("button", name="调配（患者到药房自取）")).to_be_visible()
    expect(to_dispense.get_by_label("配送企业")).to_have_count(0)
    to_dispense.get_by_role("button", name="调配（患者到药房自取）").click()
    waiting = collections(counter).get_by_test_id("prescription").filter(has_text=number)
    expect(waiting.get_by_test_id("delivery")).to_contain_text("已调配")
    expect(waiting.get_by_test_id("delivery")).not_to_contain_text("配送")  # a pick-up, no courier named
    # the drug line as hospital-rx/2 signs it (strength and pack structured), in words, not "[object Object]"
    expect(waiting.locator("table")).to_contain_text("苯磺酸氨氯地平片（5 mg）")
    expect(waiting.locator("table")).not_to_contain_text("object")
    waiting.get_by_label("取药人", exact=True).select_option("agent")
    expect(waiting.get_by_label("代取人姓名")).to_be_visible()
    screens(counter, "pharmacist-to-collect-1366", area=collections(counter))
    counter.set_viewport_size(PHONE)
    screens(counter, "pharmacist-to-collect-390", area=collections(counter))
    counter.set_viewport_size(DESKTOP)

    # A second screen of the pharmacy, opened while the prescription waits: it shows it waiting too.
    other = pharmacy_screen(plain_browser, hospital_url, pharmacist_token)
    stale = collections(other).get_by_test_id("prescription").filter(has_text=number)
    expect(stale.get_by_role("button", name="登记已取药")).to_be_visible()

    # Collected by the person the patient sent, named at the counter.
    waiting.get_by_label("代取人姓名").fill(AGENT)
    waiting.get_by_role("button", name="登记已取药").click()
    expect(counter.get_by_role("status").filter(has_text=f"处方 {number} 已登记取药。")).to_be_visible()
    expect(waiting).to_have_count(0)  # no longer waiting

    # Recorded again from the second screen: refused in Chinese, the rule's own sentence, no English (issue 14).
    stale.get_by_role("button", name="登记已取药").click()
    refusal = stale.locator("[data-role=form-error]").get_by_role("alert")
    expect(refusal.locator(".error-heading")).to_have_text("患者已取药")
    expect(refusal).to_contain_text("这张处方的药品已经交付，不能重复登记取药。")
    expect(refusal).to_contain_text("RX-08")
    no_english(refusal)
    screens(other, "collected-twice-refused-1366", area=stale)
    other.set_viewport_size(PHONE)
    screens(other, "collected-twice-refused-390", area=stale)

    # The patient's page: 已取药, and by whom; no courier, no form to choose how any more.
    patient.goto("/patient/prescriptions")
    collected = mine.get_by_test_id("delivery")
    expect(collected).to_contain_text("已取药")
    expect(collected).to_contain_text(f"取药人：{AGENT}")
    expect(collected).not_to_contain_text("配送")
    expect(mine.locator("table")).not_to_contain_text("object")
    expect(mine.get_by_test_id("fulfilment-form")).to_have_count(0)
    screens(patient, "patient-collected-390", area=mine)
    patient.set_viewport_size(DESKTOP)
    screens(patient, "patient-collected-1366", area=mine)

    # Once: the second recording left nothing (one 已取药 step, as the pharmacist entered it).
    mine_now = patient.evaluate("""async () => (await fetch('/api/prescriptions', {headers: {Authorization:
        'Bearer ' + JSON.parse(sessionStorage.getItem('hospital.session')).token}})).json()""")
    history = next(p for p in mine_now if p["prescription_number"] == number)["dispensing"]["history"]
    assert [(s["status"], s.get("agent_name")) for s in history if s["status"] == "collected"] == [("collected", AGENT)]

    for page in (patient, counter, other):
        assert page.errors == [], page.errors  # type: ignore[attr-defined]
        page.context.close()
