"""Face verification in the browser (FACE-02): a refused camera, a picture without a face and the enrolment
photo held up each get their own clear message (the passes are in the journey, test_journey.py). The administrator
admits a doctor through the admission page and suspends him from the staff list (STAFF-03)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, SHARED, Screens, new_page
from tests.faces import EXTRA_FACES

pytestmark = [pytest.mark.browser, pytest.mark.requirement("FACE-02")]


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("手机号或用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)


def verify_face(page: Page) -> None:
    """On the verification page: wait for the camera, verify, and land on the work list."""
    expect(page.get_by_role("status").filter(has_text="摄像头已就绪")).to_be_visible()
    page.get_by_role("button", name="开始核验").click()


def resident_id(prefix17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return prefix17 + "10X98765432"[sum(int(d) * w for d, w in zip(prefix17, weights, strict=True)) % 11]


def test_a_refused_camera_says_how_to_allow_it(launch: Callable[..., Browser], hospital_url: str,
                                              screens: Screens) -> None:
    context, page = new_page(launch(allow_camera=False), hospital_url, DESKTOP)
    log_in(page, "doctor.wang", "doctor-demo-2026")
    alert = page.get_by_role("alert").filter(has_text="摄像头权限被拒绝")
    expect(alert).to_contain_text("重新开启摄像头")
    expect(page.get_by_role("button", name="开始核验")).to_be_disabled()
    screens(page, "camera-refused")
    context.close()


def test_a_picture_without_a_face_is_refused_with_the_reason(launch: Callable[..., Browser], hospital_url: str,
                                                             screens: Screens) -> None:
    # Chromium's own fake camera (no file) shows a moving test pattern: no face in it.
    context, page = new_page(launch(), hospital_url, DESKTOP)
    log_in(page, "pharmacist.li", "pharmacist-demo-2026")
    verify_face(page)
    alert = page.get_by_role("alert").filter(has_text="未检测到人脸")
    expect(alert).to_contain_text("FACE-02")
    expect(page).to_have_url(f"{hospital_url}/pharmacist/verify")
    screens(page, "no-face")
    context.close()


def test_an_admitted_doctor_holding_up_the_enrolment_photo_is_refused_then_suspended(
        launch: Callable[..., Browser], plain_browser: Browser, hospital_url: str, cameras: dict[str, Path],
        screens: Screens) -> None:
    # The administrator admits 赵医生 through the admission page; a photo of doctor.wang (Obama) is refused: one
    # face, one clinician (FACE-01); with his own photo (alex1.jpg) he is admitted …
    admin_context, admin = new_page(plain_browser, hospital_url, DESKTOP)
    log_in(admin, "admin", "admin-demo-2026")
    expect(admin).to_have_url(f"{hospital_url}/admin")
    admin.get_by_role("link", name="准入新医务人员").click()
    admin.get_by_label("人员类别").select_option("doctor")
    admin.get_by_label("姓名", exact=True).fill("赵医生")
    admin.get_by_label("居民身份证号").fill(resident_id("11010519750505123"))
    admin.get_by_label("职称", exact=True).fill("主治医师")
    admin.get_by_label("独立临床工作年限").fill("8")
    admin.get_by_label("登录用户名").fill("doctor.zhao")
    admin.get_by_label("初始密码").fill("doctor-zhao-2026")
    admin.get_by_label("医师资格证书编号").fill("200031110000002")
    admin.get_by_label("医师执业证书编号", exact=True).fill("110310000000002")
    admin.get_by_label("医师执业证书编号有效期至").fill("2030-12-31")
    admin.get_by_label("执业类别").fill("临床")
    admin.get_by_label("执业范围").fill("内科专业")
    admin.get_by_label("注册执业机构").fill("示范市第一人民医院")
    admin.get_by_label("内科（03）").check()
    admin.get_by_label("本人近期正面照片").set_input_files(SHARED / "faces" / "obama.jpg")
    admin.get_by_role("button", name="准入并登记人脸").click()
    expect(admin.get_by_role("alert")).to_contain_text("FACE-01")
    screens(admin, "admission-face-of-another-clinician")
    admin.get_by_label("本人近期正面照片").set_input_files(EXTRA_FACES / "alex1.jpg")
    screens(admin, "admission-form")
    admin.get_by_role("button", name="准入并登记人脸").click()
    expect(admin.get_by_role("status").filter(has_text="已准入：赵医生")).to_be_visible()
    expect(admin.get_by_role("row").filter(has_text="赵医生")).to_contain_text("110310000000002")
    screens(admin, "staff-list")

    # … and he then holds that very photo up to the camera.
    context, page = new_page(launch(cameras["alex"]), hospital_url, DESKTOP)
    log_in(page, "doctor.zhao", "doctor-zhao-2026")
    # FACE-01: he gives the separate biometric consent himself before his enrolment takes effect
    page.goto(f"{hospital_url}/doctor/verify")
    expect(page.get_by_test_id("biometric-consent-text")).to_contain_text("人脸特征")
    page.get_by_role("button", name="本人已阅读并同意").click()
    expect(page.get_by_test_id("biometric-consent-text")).to_be_hidden()
    verify_face(page)
    alert = page.get_by_role("alert").filter(has_text="登记照片本身")
    expect(alert).to_contain_text("FACE-02")
    expect(alert).to_contain_text("已连续失败 1 次")
    screens(page, "replay-refused")
    context.close()

    # The administrator suspends him; the public disclosure stops listing him as practising.
    row = admin.get_by_role("row").filter(has_text="赵医生")
    row.get_by_text("暂停执业").click()
    row.get_by_label("暂停原因").fill("人脸核验异常，待核查")
    row.get_by_role("button", name="确认暂停").click()
    expect(admin.get_by_role("row").filter(has_text="赵医生")).to_contain_text("已暂停执业")
    screens(admin, "staff-suspended")
    admin.goto("/disclosure")
    expect(admin.get_by_test_id("disclosure-clinicians")).to_contain_text("王医生")
    expect(admin.get_by_test_id("disclosure-clinicians")).not_to_contain_text("赵医生")
    admin_context.close()
