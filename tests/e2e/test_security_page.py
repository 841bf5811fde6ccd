"""The administrator's security-incident page (SEC-02): record a leak, see closing refused while it is unreported
(the rule named on the page), contain it, report it to every authority, close it with a review."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import DESKTOP, Screens, new_page
from tests.e2e.test_clinician_faces import log_in

pytestmark = [pytest.mark.browser, pytest.mark.requirement("SEC-02")]


def test_an_administrator_handles_a_leak_from_record_to_close(plain_browser: Browser, hospital_url: str,
                                                              screens: Screens) -> None:
    context, page = new_page(plain_browser, hospital_url, DESKTOP)
    log_in(page, "admin", "admin-demo-2026")
    page.goto("/admin/security")
    form = page.locator("#new-incident-form")
    form.get_by_label("数据泄露").select_option("confirmed")
    form.get_by_label("事件经过").fill("患者导出表格出现在外部网盘")
    form.get_by_label("涉及人数").fill("12")
    form.get_by_role("button", name="登记").click()
    expect(page.get_by_role("status").filter(has_text="事件已登记")).to_be_visible()

    row = page.locator("#incidents tr").filter(has_text="患者导出表格")
    row.get_by_role("button", name="处置").click()
    incident = page.locator("#incident")
    expect(incident.locator(".timeline")).to_contain_text("登记")
    screens(page, "recorded")

    incident.get_by_label("复盘总结").fill("导出功能缺少审批，已加双人审批")
    incident.get_by_role("button", name="关闭事件").click()
    expect(incident.locator("[data-rule-id=SEC-02]")).to_be_visible()  # refused: not contained, not reported
    screens(page, "close-refused")

    incident.get_by_label("采取的控制措施").fill("网盘链接已删除")
    incident.get_by_role("button", name="标记为已控制").click()
    expect(row).to_contain_text("已控制")
    incident.get_by_label("报告时间").fill("2026-11-23T10:00")
    incident.get_by_label("文号/受理编号/接报人").fill("区卫健委 受理号 118")
    incident.get_by_role("button", name="记录报告").click()
    expect(row).to_contain_text("已报告")
    incident.get_by_label("复盘总结").fill("导出功能缺少审批，已加双人审批")
    incident.get_by_role("button", name="关闭事件").click()
    expect(page.get_by_role("status").filter(has_text="事件已关闭")).to_be_visible()
    expect(row).to_contain_text("已关闭")
    screens(page, "closed")
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()
