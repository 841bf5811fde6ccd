"""The patient's registration form as a browser fills it (PAT-01), shared by the e2e tests that register."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.e2e.test_clinician_faces import resident_id


def register(page: Page, *, name: str, id_prefix17: str, phone: str, password: str) -> None:
    """Open /patient/register, fill every field (the ID number's check digit computed) and submit; the caller
    checks what the page answers (the consent, or a refusal)."""
    page.goto("/patient/register")
    page.get_by_label("真实姓名").fill(name)
    page.get_by_label("居民身份证号").fill(resident_id(id_prefix17))
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("设置密码").fill(password)
    page.get_by_label("再次输入密码").fill(password)
    page.get_by_role("button", name="注册并继续").click()
