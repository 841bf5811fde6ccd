"""The 处方笺's paper and words (处方管理办法 第五条, 附件 处方标准), and its seal as pyHanko checks it, without a
database: a throwaway hospital CA, seal and TSA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.reader import PdfFileReader

from hospital.prescriptions.printing.document import (
    Attachment,
    CallbackTimeStamper,
    attachments_of,
    qr_image_of,
    qr_matrix,
    seal_pdf,
    unsigned_pdf,
)
from hospital.prescriptions.printing.layout import PaperKind, page_content, paper_kind, text_width
from hospital.prescriptions.printing.sheet import printed_prescription
from hospital.prescriptions.printing.verify import verify_printed
from hospital.signing.ca import create_root_ca
from hospital.signing.seal import HospitalSeal, issue_seal_certificate
from hospital.signing.timestamps import TimestampAuthority

PAYLOAD = {
    "prescription_number": "RX202612030001", "issued_at": "2026-12-03T10:00:00+08:00", "valid_until": "2026-12-03",
    "hospital": "示范互联网医院", "visit": {"visit_id": "v-1", "department_code": "03"},
    "patient": {"patient_id": "p-1", "name": "韩梅梅", "sex": "female", "age": 8},
    "diagnoses": [{"icd10": "J06.9", "name": "急性上呼吸道感染"}],
    "items": [{"drug_code": "X1", "name_zh": "阿莫西林胶囊", "strength": "0.25 g", "dose_per_time": "0.5",
               "dose_unit": "g", "times_per_day": 3, "frequency": "tid", "days_supply": 7, "quantity_packs": 2,
               "pack": "24 粒", "usage": "口服", "amount_cny": "20.00"}],
    "total_cny": "20.00", "doctor": {"name": "李医生"},
}
REVIEW = {"pharmacist": {"name": "王药师", "staff_id": "s-2"}, "reviewed_at": "2026-12-03T10:05:00+08:00"}


@pytest.mark.parametrize(("classes", "age", "emergency", "kind", "colour"), [
    (["none"], 40, False, PaperKind.ORDINARY, (1.0, 1.0, 1.0)),
    (["none"], 40, True, PaperKind.EMERGENCY, (1.0, 0.98, 0.80)),  # 淡黄色
    (["none"], 8, False, PaperKind.PAEDIATRIC, (0.88, 0.97, 0.88)),  # 淡绿色
    (["none", "narcotic"], 8, False, PaperKind.NARCOTIC, (1.0, 0.89, 0.89)),  # 淡红色, whoever the patient
    (["psychotropic_1"], 40, True, PaperKind.NARCOTIC, (1.0, 0.89, 0.89)),
    (["psychotropic_2"], 40, False, PaperKind.PSYCHOTROPIC_2, (1.0, 1.0, 1.0)),  # white, labelled 精二
])
def test_the_paper_has_the_colour_of_its_kind(classes: list[str], age: int, emergency: bool, kind: PaperKind,
                                              colour: tuple[float, float, float]) -> None:
    chosen = paper_kind(classes, patient_age_years=age, emergency=emergency)
    assert chosen is kind and chosen.colour == colour
    printed = printed_prescription(PAYLOAD, REVIEW, kind=chosen, payload_sha256="0" * 64)
    content = page_content(printed).decode("ascii")
    assert content.startswith(f"q {colour[0]:g} {colour[1]:g} {colour[2]:g} rg 0 0 420 595 re f Q")
    label = "".join(f"{ord(ch):04X}" for ch in kind.label)
    assert (f"<{label}> Tj" in content) is (kind is not PaperKind.ORDINARY)  # 急诊, 儿科, 麻、精一, 精二


def test_the_page_carries_every_part_the_regulation_names() -> None:
    printed = printed_prescription(PAYLOAD, REVIEW, kind=PaperKind.PAEDIATRIC, payload_sha256="ab" * 32)
    content = page_content(printed).decode("ascii")
    for words in ("示范互联网医院", "处 方 笺", "费别：自费", "姓名：韩梅梅", "性别：女", "年龄：8 岁", "门诊病历号：v-1",
                  "临床诊断：急性上呼吸道感染（J06.9）", "开具日期：2026-12-03", "Rp", "1. 阿莫西林胶囊  0.25 g",
                  "用法用量：口服，一次 0.5 g，一日 3 次，共 7 天", "医师签名：李医生", "审核药师：王药师",
                  "药品金额：￥20.00"):
        encoded = "".join(f"{ord(ch):04X}" for ch in words)
        assert encoded in content, words
    assert text_width("处方 Rp", 10) == 2 * 10 + 3 * 5
    late = {**PAYLOAD, "issued_at": "2026-12-03T18:30:00+00:00"}  # 02:30 the next morning in Beijing
    assert printed_prescription(late, REVIEW, kind=PaperKind.ORDINARY, payload_sha256="0" * 64).issued_on == "2026-12-04"
    tablets = {**PAYLOAD, "items": [{**PAYLOAD["items"][0], "pack": "28 tablet", "dose_unit": "tablet"}]}
    [item] = printed_prescription(tablets, REVIEW, kind=PaperKind.ORDINARY, payload_sha256="0" * 64).items
    assert item.quantity == "2（28 片/包装）" and "一次 0.5 片" in item.usage  # the formulary's units, in Chinese


async def test_a_sealed_page_verifies_and_keeps_its_qr_code_and_attachments() -> None:
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca = create_root_ca("示范互联网医院", now=now)
    seal_key, tsa_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    seal = HospitalSeal(issue_seal_certificate(ca, seal_key.public_key(), now=now), seal_key, ca.certificate)
    tsa = TimestampAuthority(ca.issue_tsa_certificate(tsa_key.public_key(), now=now), tsa_key, [ca.certificate])
    printed = printed_prescription(PAYLOAD, REVIEW, kind=PaperKind.PAEDIATRIC, payload_sha256="ab" * 32)
    raw = unsigned_pdf(printed, qr="hospital-rx/1\nnumber=RX202612030001",
                       attachments=[Attachment("prescription.jws", b"a.b.c", "application/jose", "doctor")])
    pdf = await seal_pdf(raw, seal, CallbackTimeStamper(lambda request: tsa.respond(request, datetime.now(UTC))))
    reader = PdfFileReader(BytesIO(pdf))
    assert attachments_of(reader) == {"prescription.jws": b"a.b.c"}
    text, drawn = qr_image_of(reader)
    assert drawn == qr_matrix(text) and text.startswith("hospital-rx/1")
    report = await verify_printed(pdf, trusted_roots=[ca.certificate])
    assert report.seal["intact"] and report.seal["trusted"] and report.seal["timestamp"], report.as_dict()
    assert {p["code"] for p in report.problems} == {"export_missing"}  # no export attached to this one
    other = create_root_ca("另一家医院", now=now)
    untrusted = await verify_printed(pdf, trusted_roots=[other.certificate])
    assert "seal_untrusted" in {p["code"] for p in untrusted.problems}
