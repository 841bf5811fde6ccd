"""The full journey in the browser, one person per browser context, as the people who use it would:

a patient registers, consents, uploads a prior diagnosis and books on a phone; the doctor verifies his face
with the webcam, accepts after reading the records, meets the patient on video and in the chat, writes and
signs the EMR and a prescription; the pharmacist verifies his face and approves; the patient reads the signed
record, sees the prescription in effect, rates the visit and downloads the sealed 处方笺 PDF (pyHanko validates it).

The steps run in order in one test (`JOURNEY`); each is a small function over the shared `Journey`: the
doctor's prescription is first refused with the rule findings shown beside the form (RX-03), then signed; the
pharmacist approves with both signatures checked on the export; the patient asks for delivery to a mainland
address (RX-08); the pharmacist reads it in full, dispenses and ships; the patient sees the prescription in effect
with its delivery and (masked) address. A second test: filing a diagnosis never seen online (A00, cholera) shows
the rule's own message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from hospital.demo import DEMO_INSTITUTION_REGISTRATION
from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOTS, Screens, new_page
from tests.e2e.test_clinician_faces import log_in, resident_id, verify_face
from tests.helpers import hospital_today

# An English sentence: three Latin words in a row. Rule IDs ("RX-03"), codes ("I10") and dates are not one.
ENGLISH = re.compile(r"[A-Za-z]{2,}['’]?[a-z]*[ ,;:]+[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}")


def no_english(area: Locator) -> str:
    """The area's text, failing when it holds an English sentence (a refusal on a Chinese page, issue 14)."""
    text = area.inner_text()
    assert not ENGLISH.search(text), f"English on a Chinese page after a refusal: {text!r}"
    return text

pytestmark = [pytest.mark.browser, pytest.mark.requirement("REV-03", "RX-03", "FACE-02", "RX-05", "RX-08")]


@dataclass
class Journey:
    hospital_url: str
    screens: Screens
    patient: Page
    doctor: Page
    pharmacist: Page
    document: Path
    visit_url: str = ""
    contexts: list[BrowserContext] = field(default_factory=list)


def outpatient_record(path: Path, diagnosis: str) -> Path:
    """A photographed outpatient record: what a patient uploads from a phone."""
    image = Image.new("RGB", (900, 1200), "white")
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(("Demo City First People's Hospital", "Outpatient record", f"Diagnosis: {diagnosis}",
                                f"Date: {hospital_today() - timedelta(days=120)}")):
        draw.text((60, 80 + 60 * row), line, fill="black")
    image.save(path, "PNG")
    return path


def patient_registers(j: Journey) -> None:
    page = j.patient
    page.goto("/")
    expect(page.get_by_test_id("hospital-name")).to_have_text("示范互联网医院")
    j.screens(page, "patient-home-public")
    page.get_by_role("link", name="实名注册").click()
    page.get_by_label("真实姓名").fill("李雷")
    page.get_by_label("居民身份证号").fill(resident_id("11010519850612003"))
    page.get_by_label("手机号").fill("13900139001")
    page.get_by_label("设置密码").fill("lilei-2026-pw")
    page.get_by_label("再次输入密码").fill("lilei-2026-pw")
    j.screens(page, "patient-registers")
    page.get_by_role("button", name="注册并继续").click()
    expect(page).to_have_url(re.compile(r"/patient/consent"))
    # told first that registration succeeded, before the long consent text (issue 14)
    expect(page.get_by_test_id("registered")).to_contain_text("注册成功")
    j.screens(page, "patient-registered", full_page=False)


def patient_consents(j: Journey) -> None:
    page = j.patient
    expect(page.get_by_role("heading", name="一、服务范围：仅限复诊")).to_be_visible()
    page.get_by_label("我已阅读并理解上述内容").check()
    j.screens(page, "patient-consent")
    page.get_by_role("button", name="我已阅读并同意").click()
    expect(page).to_have_url(re.compile(r"/patient/diagnoses"))


def patient_uploads_a_diagnosis(j: Journey) -> None:
    page = j.patient
    # chosen by name from the hospital's list; the code is filled from it, never typed (no "ICD-10" shown)
    expect(page.locator("#diagnosis-names option[value='原发性高血压']")).to_have_count(1)
    page.get_by_label("诊断名称").fill("原发性高血压")
    expect(page.locator("#icd10_code")).to_have_value("I10")
    expect(page.locator("main")).not_to_contain_text("ICD")
    page.get_by_label("诊断机构").fill("示范市第一人民医院")
    page.get_by_label("医疗机构登记号").fill(DEMO_INSTITUTION_REGISTRATION)
    page.get_by_label("诊断日期").fill((hospital_today() - timedelta(days=120)).isoformat())
    page.get_by_label("资料类型").select_option("outpatient_record")
    page.get_by_label("病历资料（照片或PDF）").set_input_files(j.document)
    page.get_by_role("button", name="上传").click()
    diagnosis = page.get_by_test_id("prior-diagnosis").filter(has_text="原发性高血压")
    expect(diagnosis.get_by_test_id("eligibility")).to_contain_text("可预约复诊")
    j.screens(page, "patient-diagnosis-eligible")


def patient_states_the_safety_context_at_intake(j: Journey) -> None:
    page = j.patient
    page.get_by_role("link", name="用此诊断预约").click()
    # RX-04: allergies coded from the formulary's vocabulary, stated explicitly (no default) before booking
    intake = page.get_by_test_id("intake-safety")
    expect(intake.get_by_test_id("safety-context")).to_contain_text("尚未声明过敏史")
    intake.get_by_label("药物过敏声明").select_option("allergies")
    intake.get_by_label("过敏药物").select_option("penicillins")
    intake.get_by_label("体重（kg，本次就诊测量）").fill("68")
    intake.get_by_role("button", name="保存用药安全信息").click()
    expect(intake.get_by_test_id("safety-context")).to_contain_text("青霉素类")
    expect(intake.get_by_test_id("safety-context")).to_contain_text("68 kg")
    j.screens(page, "patient-states-safety-context")


def patient_books(j: Journey) -> None:
    page = j.patient
    expect(page.get_by_test_id("schedule-option").first).to_contain_text("王医生")
    page.get_by_test_id("schedule-option").filter(has_text="心血管内科专业").first.get_by_role("radio").check()
    page.get_by_label("视频复诊").check()
    expect(page.get_by_test_id("fee")).to_contain_text("¥30.00")  # the disclosure's video fee (INS-03)
    page.get_by_label("我已知晓并同意支付上述诊查费").check()
    j.screens(page, "patient-books")
    page.get_by_role("button", name="确认预约").click()
    expect(page).to_have_url(re.compile(r"/patient/visits/[0-9a-f-]{36}"))
    expect(page.get_by_test_id("queue")).to_contain_text("候诊序号")
    j.visit_url = page.url.split("?")[0]
    j.screens(page, "patient-waits-in-queue")


def doctor_verifies_his_face(j: Journey) -> None:
    page = j.doctor
    log_in(page, "doctor.wang", "doctor-demo-2026")
    expect(page).to_have_url(f"{j.hospital_url}/doctor/verify")
    verify_face(page)
    expect(page).to_have_url(f"{j.hospital_url}/doctor")
    expect(page.get_by_test_id("practice-session")).to_contain_text("人脸核验有效")
    # among every open visit (#open-visits); it is also in the day's queue above (#queue) when booked for today,
    # which depends on the hour the test runs (China time)
    expect(page.locator("#open-visits").get_by_role("row").filter(has_text="李雷")).to_be_visible()
    j.screens(page, "doctor-queue")


def doctor_accepts_after_reading_the_records(j: Journey) -> None:
    page = j.doctor
    page.locator("#open-visits").get_by_role("row").filter(has_text="李雷").get_by_role("link", name="打开").click()
    expect(page.get_by_test_id("prior-diagnosis")).to_contain_text("原发性高血压（I10）")
    page.get_by_role("button", name="查看诊断资料原件").click()
    expect(page.get_by_role("img", name="患者上传的诊断资料")).to_be_visible()
    page.get_by_label("我已查阅患者的既往诊断资料").check()
    page.get_by_role("button", name="接诊").click()
    expect(page.get_by_role("status").filter(has_text="已接诊")).to_be_visible()
    page.get_by_role("button", name="开始诊疗").click()
    expect(page.get_by_role("status").filter(has_text="诊疗已开始")).to_be_visible()


def doctor_and_patient_meet_on_video(j: Journey) -> None:
    """The booked video call through the hospital's media peer; the doctor's face is watched all along (FACE-02)."""
    j.doctor.get_by_role("button", name="加入视频问诊").click()
    j.patient.get_by_role("button", name="加入视频问诊").click()
    for page in (j.doctor, j.patient):
        expect(page.get_by_test_id("call")).to_have_attribute("data-call-state", "live", timeout=45_000)
        expect(page.get_by_test_id("call-status")).to_have_text("通话中")
    j.screens(j.patient, "patient-video-call")
    j.screens(j.doctor, "doctor-video-call", full_page=False)
    for page in (j.patient, j.doctor):
        page.get_by_role("button", name="离开通话").click()
        expect(page.get_by_test_id("call")).to_have_attribute("data-call-state", "ended")


def doctor_and_patient_talk(j: Journey) -> None:
    j.doctor.get_by_label("消息").fill("您好，最近血压控制得怎么样？")
    j.doctor.get_by_role("button", name="发送").click()
    patient = j.patient
    expect(patient.get_by_test_id("chat-log")).to_contain_text("最近血压控制得怎么样", timeout=20_000)
    patient.get_by_label("消息").fill("早上大约135/85，没有头晕。")
    patient.get_by_role("button", name="发送").click()
    expect(j.doctor.get_by_test_id("chat-log")).to_contain_text("135/85")
    j.screens(patient, "patient-chat")


def doctor_writes_and_signs_the_emr(j: Journey) -> None:
    page = j.doctor
    page.get_by_label("主诉").fill("高血压复诊，要求续开降压药")
    page.get_by_label("现病史").fill("确诊原发性高血压4个月，规律服用氨氯地平，家庭自测血压130-135/80-85mmHg，无头晕头痛。")
    page.get_by_label("过敏史").fill("无")
    expect(page.get_by_label("诊断编码", exact=True)).to_have_value("I10")
    page.get_by_label("处理意见").fill("继续苯磺酸氨氯地平片5mg 每日一次；低盐饮食；每日监测血压，3个月后复诊。")
    j.screens(page, "doctor-visit-emr")
    page.get_by_role("button", name="保存并签署病历").click()
    expect(page.get_by_role("status").filter(has_text="病历已签署")).to_be_visible()
    expect(page.get_by_test_id("emr")).to_contain_text("医师已于")
    holds_one_device_key(page)  # registered at the first signature, after the fresh face verification


DEVICE_KEYS_IN_THE_BROWSER = """async () => {
  const db = await new Promise((ok, no) => {
    const r = indexedDB.open("hospital-signing", 1); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
  const all = await new Promise((ok, no) => {
    const r = db.transaction("devices").objectStore("devices").getAll();
    r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
  return all.map((d) => ({ deviceId: d.deviceId, type: d.privateKey.type, extractable: d.privateKey.extractable,
                           curve: d.privateKey.algorithm.namedCurve }));
}"""


def holds_one_device_key(page: Page) -> None:
    """RX-05: the page registered one signing device; its private key is in IndexedDB and cannot be exported."""
    keys = page.evaluate(DEVICE_KEYS_IN_THE_BROWSER)
    assert len(keys) == 1, keys
    assert keys[0]["type"] == "private" and keys[0]["extractable"] is False and keys[0]["curve"] == "P-256", keys


def doctor_writes_and_signs_a_prescription(j: Journey) -> None:
    page = j.doctor
    # RX-04: nothing is prescribed before the patient's allergy statement; the doctor records it in the visit
    panel = page.get_by_test_id("safety-panel")
    expect(panel.get_by_test_id("safety-context")).to_contain_text("青霉素类")  # as the patient stated it
    panel.get_by_role("button", name="确认/更正安全信息").click()  # the doctor confirms it: a new version
    expect(panel.get_by_test_id("safety-context")).to_contain_text("医师已确认")
    expect(panel.get_by_test_id("safety-context")).to_contain_text("青霉素类")
    item = page.get_by_test_id("rx-item").first
    item.get_by_label("药品").select_option("C08CA01-tab-5mg")
    item.get_by_label("单次剂量").fill("20")  # twice the label's daily maximum of 10 mg
    item.get_by_label("每日次数").fill("1")
    item.get_by_label("用药天数").fill("28")
    item.get_by_label("用法").fill("口服，早餐后")
    page.get_by_label("我确认本处方由本人依据本次诊疗亲自开具").check()
    page.get_by_role("button", name="签名并提交审核").click()
    findings = page.get_by_test_id("rx-findings")
    expect(findings).to_contain_text("规则检查未通过，处方未签署")
    expect(findings).to_contain_text("RX-03")
    j.screens(page, "doctor-prescription-refused-inline")
    # The findings in Chinese on a Chinese page: each rule's own reason, no English sentence (issue 14).
    expect(findings).to_contain_text("用药天数超出限制")
    expect(findings).to_contain_text("剂量超过说明书上限")
    no_english(findings)
    no_english(page.locator(".rx-form [data-role=form-error]"))
    item.get_by_label("单次剂量").fill("5")
    page.get_by_label("长期处方理由").fill("原发性高血压病情稳定，慢性病长期处方")
    page.get_by_label("超过7日用量的理由类别").select_option("stable_chronic_disease")
    page.get_by_role("button", name="签名并提交审核").click()
    expect(page.get_by_role("status").filter(has_text="等待药师审核")).to_be_visible()
    expect(page.get_by_test_id("prescription").first).to_contain_text("医师电子签名：王医生")
    holds_one_device_key(page)  # the same device signed the prescription
    j.screens(page, "doctor-prescription-signed")


def pharmacist_verifies_his_face(j: Journey) -> None:
    page = j.pharmacist
    log_in(page, "pharmacist.li", "pharmacist-demo-2026")
    verify_face(page)
    expect(page).to_have_url(f"{j.hospital_url}/pharmacist")
    expect(page.get_by_test_id("practice-session")).to_contain_text("人脸核验有效")


def pharmacist_approves_with_both_signatures_checked(j: Journey) -> None:
    page = j.pharmacist
    card = page.get_by_test_id("prescription").filter(has_text="李雷")
    expect(card.get_by_test_id("doctor-signature")).to_contain_text("王医生")
    expect(card).to_contain_text("苯磺酸氨氯地平片")
    expect(card.get_by_test_id("safety-context")).to_contain_text("青霉素类")  # beside the queue item (RX-04)
    card.get_by_role("button", name="领取审核").click()  # RX-06: claimed, out of other pharmacists' queues
    expect(card.get_by_test_id("claim")).to_contain_text("已由我领取")
    j.screens(page, "pharmacist-review-queue")
    card.get_by_role("button", name="审核通过").click()
    report = page.get_by_test_id("signature-report")
    expect(report).to_contain_text("医师与药师的电子签名均核验通过")
    expect(report).to_contain_text("李药师")
    holds_one_device_key(page)  # the pharmacist's own device signed the review
    j.screens(page, "pharmacist-approved-signatures-checked")


def patient_chooses_delivery(j: Journey) -> None:
    """Before it is dispensed, the patient asks for delivery to a structured mainland address (RX-08)."""
    page = j.patient
    page.goto("/patient/prescriptions")
    card = page.get_by_test_id("prescription").first
    expect(card.get_by_test_id("fulfilment")).to_contain_text("到医院药房自取")  # pick-up until chosen
    card.get_by_label("配送到我的地址").check()
    card.get_by_label("省、自治区、直辖市").select_option("广东省")
    card.get_by_label("市", exact=True).fill("深圳市")
    card.get_by_label("区、县").fill("南山区")
    card.get_by_label("街道及门牌号").fill("科技园路1号2栋301室")
    card.get_by_label("收件人姓名").fill("李雷")
    card.get_by_label("收件人手机号").fill("12900139001")  # not a mainland mobile: the page refuses it
    card.get_by_role("button", name="保存取药方式").click()
    expect(card.locator("input:invalid")).to_have_count(1)
    card.get_by_label("收件人手机号").fill("13900139001")
    j.screens(page, "patient-chooses-delivery")
    card.get_by_role("button", name="保存取药方式").click()
    chosen = page.get_by_test_id("prescription").first.get_by_test_id("fulfilment")
    expect(chosen).to_contain_text("广东省深圳市南山区")
    expect(chosen).to_contain_text("139****9001")  # a list shows it masked (SEC-01)
    expect(chosen).not_to_contain_text("科技园路")
    j.screens(page, "patient-delivery-chosen")


def pharmacist_dispenses_and_ships(j: Journey) -> None:
    page = j.pharmacist
    # The queue was drawn when the prescription was approved, before the patient chose delivery: the pharmacist's
    # page is opened afresh, as at the start of the dispensing round, so it offers the courier (RX-08).
    page.reload()
    to_dispense = page.locator("#dispensing").get_by_test_id("prescription").filter(has_text="李雷")
    to_dispense.get_by_role("button", name="调配并交付配送").click()
    moving = page.locator("#deliveries").get_by_test_id("prescription").filter(has_text="李雷")
    # the pharmacist shipping it reads the address in full (RX-08)
    expect(moving.get_by_test_id("ship-to")).to_contain_text("广东省深圳市南山区科技园路1号2栋301室 · 李雷 13900139001")
    moving.get_by_label("运单号").fill("SF1234567890")
    moving.get_by_role("button", name="已发货").click()
    expect(page.locator("#deliveries").get_by_test_id("delivery").first).to_contain_text("SF1234567890")
    j.screens(page, "pharmacist-shipped")


def doctor_completes_the_visit(j: Journey) -> None:
    page = j.doctor
    page.get_by_role("button", name="结束诊疗").click()
    expect(page.get_by_role("status").filter(has_text="诊疗已结束")).to_be_visible()
    j.screens(page, "doctor-visit-completed")


def patient_reads_the_record_and_rates_the_visit(j: Journey) -> None:
    page = j.patient
    page.goto(j.visit_url)
    expect(page.get_by_test_id("emr")).to_contain_text("继续苯磺酸氨氯地平片5mg")
    prescription = page.get_by_test_id("prescription").first
    expect(prescription.get_by_test_id("rx-effective")).to_contain_text("处方已生效")
    expect(prescription.get_by_test_id("delivery")).to_contain_text("SF1234567890")
    expect(prescription.get_by_test_id("fulfilment")).to_contain_text("广东省深圳市南山区")  # shipped there (RX-08)
    expect(prescription).not_to_contain_text("RX-03")  # the rule findings are for the clinicians
    # No preset score (QA-01): nothing is checked, and submitting without choosing is refused in the page
    expect(page.locator("#rating-form input[name=score]:checked")).to_have_count(0)
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#rating-form input[name=score]:invalid")).to_have_count(5)
    expect(page.get_by_role("status").filter(has_text="感谢您的评价")).to_have_count(0)
    page.get_by_label("4 星").check()
    page.get_by_label("意见（可选）").fill("医生很耐心。")
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_role("status").filter(has_text="感谢您的评价")).to_be_visible()
    j.screens(page, "patient-record-and-rating")


def patient_prints_the_sealed_prescription(j: Journey) -> None:
    """Issue 19: the PDF link on the patient's page downloads the 处方笺, sealed by the hospital; pyHanko's own
    validator, trusting only the hospital CA the site publishes, says intact, valid and time-stamped."""
    page = j.patient
    prescription = page.get_by_test_id("prescription").first
    with page.expect_download() as download:
        prescription.get_by_test_id("rx-pdf").click()
    saved = download.value
    assert saved.suggested_filename.endswith(".pdf")
    pdf = Path(saved.path()).read_bytes()
    ca_pem = page.request.get(f"{j.hospital_url}/.well-known/hospital-ca.pem").body()
    trust = ValidationContext(trust_roots=[asn1_x509.Certificate.load(pem.unarmor(ca_pem)[2])])
    [seal] = PdfFileReader(BytesIO(pdf)).embedded_signatures
    with ThreadPoolExecutor(1) as worker:  # pyHanko runs its own event loop; Playwright's holds this thread
        status = worker.submit(validate_pdf_signature, seal, trust, ts_validation_context=trust).result()
    assert status.intact and status.valid and status.trusted and status.bottom_line, status.pretty_print_details()
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    # the rendered page, as Chromium's own PDF viewer shows it
    viewer = page.context.new_page()
    viewer.set_viewport_size({"width": 800, "height": 1100})  # the whole A5 page, not the phone's width
    copy = j.document.with_name(saved.suggested_filename)
    copy.write_bytes(pdf)
    viewer.goto(copy.as_uri())
    viewer.wait_for_load_state()
    viewer.wait_for_timeout(2000)  # the viewer paints after loading; nothing is asserted on time
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(path=str(SCREENSHOTS / "prescription-paper-in-chromium.png"))
    viewer.close()


JOURNEY: list[Callable[[Journey], None]] = [
    patient_registers, patient_consents, patient_uploads_a_diagnosis, patient_states_the_safety_context_at_intake,
    patient_books,
    doctor_verifies_his_face, doctor_accepts_after_reading_the_records, doctor_and_patient_meet_on_video,
    doctor_and_patient_talk,
    doctor_writes_and_signs_the_emr, doctor_writes_and_signs_a_prescription, pharmacist_verifies_his_face,
    pharmacist_approves_with_both_signatures_checked, patient_chooses_delivery, pharmacist_dispenses_and_ships,
    doctor_completes_the_visit,
    patient_reads_the_record_and_rates_the_visit, patient_prints_the_sealed_prescription,
]


def test_the_full_journey_from_registration_to_the_effective_prescription(
        launch: Callable[..., Browser], plain_browser: Browser, hospital_url: str, cameras: dict[str, Path],
        screens: Screens, tmp_path: Path) -> None:
    patient_context, patient = new_page(plain_browser, hospital_url, PHONE)
    doctor_context, doctor = new_page(launch(cameras["doctor"]), hospital_url, DESKTOP)
    pharmacist_context, pharmacist = new_page(launch(cameras["pharmacist"]), hospital_url, DESKTOP)
    journey = Journey(hospital_url, screens, patient, doctor, pharmacist,
                      outpatient_record(tmp_path / "record.png", "I10 essential hypertension"),
                      contexts=[patient_context, doctor_context, pharmacist_context])
    for step in JOURNEY:
        step(journey)
    for page in (patient, doctor, pharmacist):
        assert page.errors == [], page.errors  # type: ignore[attr-defined]
    for context in journey.contexts:
        context.close()


def test_filing_cholera_shows_the_rules_message(plain_browser: Browser, hospital_url: str, screens: Screens,
                                                 tmp_path: Path) -> None:
    context, page = new_page(plain_browser, hospital_url, PHONE)
    log_in(page, "13800138000", "patient-demo-2026")  # the demo patient has consented
    page.goto("/patient/diagnoses")
    # the page's form is bound once the list has arrived; a click before it would submit the form natively
    expect(page.locator("#diagnosis-names option[value='原发性高血压']")).to_have_count(1)
    page.get_by_label("诊断名称").fill("霍乱")  # not in the list of diagnoses followed up online
    page.get_by_label("诊断机构").fill("示范市传染病医院")
    page.get_by_label("医疗机构登记号").fill(DEMO_INSTITUTION_REGISTRATION)
    page.get_by_label("诊断日期").fill((hospital_today() - timedelta(days=10)).isoformat())
    page.get_by_label("病历资料（照片或PDF）").set_input_files(outpatient_record(tmp_path / "a00.png", "A00 cholera"))
    page.get_by_role("button", name="上传").click()
    # REV-03: cholera is never offered in the list, so the page refuses it before anything is sent (the API
    # refuses the code too: tests/integration/visits)
    expect(page.locator("#diagnosis-names option[value='霍乱']")).to_have_count(0)
    assert page.get_by_label("诊断名称").evaluate("el => el.validationMessage") == "请从列表中选择本院可复诊的诊断名称。"
    expect(page.get_by_test_id("prior-diagnosis").filter(has_text="霍乱")).to_have_count(0)
    screens(page, "cholera-filing-refused")
    context.close()
