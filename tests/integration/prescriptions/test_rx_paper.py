"""The printable 处方笺 (issue 19): an approved prescription's PDF, sealed by the hospital with PAdES, carrying both
JWS, its QR code naming the number and the payload hash; pyHanko's own validator says intact and valid, one
changed byte says otherwise, `hospital rx pdf-verify` agrees, and only the export's readers get it."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.prescriptions.printing.cli import rx as rx_cli
from hospital.prescriptions.printing.document import attachments_of, qr_image_of, qr_matrix, qr_text
from hospital.signing.canonical import payload_sha256
from hospital.visits.booking.models import Visit
from tests.helpers import login_as
from tests.integration.prescriptions.conftest import reviewing_pharmacist
from tests.integration.prescriptions.helpers import approved, review, written
from tests.integration.visits.journey import new_patient

pytestmark = pytest.mark.requirement("RX-05", "RX-06")


async def printed(client: AsyncTestClient[Any], rx: dict[str, Any], headers: dict[str, str]) -> Any:
    return await client.get(f"/api/prescriptions/{rx['prescription_id']}/document.pdf", headers=headers)


async def trusting_the_hospital(client: AsyncTestClient[Any]) -> tuple[str, ValidationContext]:
    ca_pem = (await client.get("/.well-known/hospital-ca.pem")).text
    _, _, der = pem.unarmor(ca_pem.encode())
    return ca_pem, ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)])


def pdf_verify(tmp_path: Path, pdf: bytes, ca_pem: str) -> tuple[int, dict[str, Any]]:
    (tmp_path / "rx.pdf").write_bytes(pdf)
    (tmp_path / "ca.pem").write_text(ca_pem)
    result = CliRunner().invoke(rx_cli, ["pdf-verify", str(tmp_path / "rx.pdf"), "--ca", str(tmp_path / "ca.pem")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.output)


async def test_an_approved_prescription_prints_as_a_sealed_pdf_that_pyhanko_validates(
    client: AsyncTestClient[Any], ctx: HospitalContext, visit: Visit, tmp_path: Path
) -> None:
    rx, _ = await approved(client, visit)
    patient = await login_as(client, "patient")
    response = await printed(client, rx, patient)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/pdf")
    pdf = response.content
    ca_pem, trust = await trusting_the_hospital(client)

    reader = PdfFileReader(BytesIO(pdf))
    [seal] = reader.embedded_signatures
    status = await asyncio.to_thread(validate_pdf_signature, seal, trust, ts_validation_context=trust)
    assert status.intact and status.valid and status.trusted and status.bottom_line, status.pretty_print_details()
    assert status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted  # PAdES B-T, our TSA
    assert "电子处方专用章" in status.signing_cert.subject.human_friendly

    export = (await client.get(f"/api/prescriptions/{rx['prescription_id']}/export", headers=patient)).json()
    attached = attachments_of(reader)
    assert attached["prescription.jws"].decode() == export["prescription_jws"]  # the stored JWS, byte for byte
    assert attached["review.jws"].decode() == export["review_jws"]

    digest = payload_sha256(export["prescription"])
    number = export["prescription"]["prescription_number"]
    base = ctx.settings.public_base_url.rstrip("/")
    expected = qr_text(number=number, payload_sha256=digest,
                       export_url=f"{base}/api/prescriptions/{rx['prescription_id']}/export",
                       verify_url=f"{base}/api/rx/verify")
    text, drawn = qr_image_of(reader)
    assert text == expected and f"number={number}" in text and f"sha256={digest}" in text
    assert drawn == qr_matrix(expected)  # the image drawn is the code of that text, module for module

    exit_code, report = await asyncio.to_thread(pdf_verify, tmp_path, pdf, ca_pem)  # the CLI runs its own loop
    assert exit_code == 0 and report["ok"] is True, report
    assert report["export"]["decision"] == "approve"


async def test_one_changed_byte_in_the_pdf_is_reported_invalid(
    client: AsyncTestClient[Any], visit: Visit, tmp_path: Path
) -> None:
    rx, _ = await approved(client, visit)
    pdf = (await printed(client, rx, await login_as(client, "patient"))).content
    at = pdf.index(b"stream\n") + len(b"stream\n") + 10  # inside the first (sealed) stream's data
    changed = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1:]
    ca_pem, trust = await trusting_the_hospital(client)
    [seal] = PdfFileReader(BytesIO(changed), strict=False).embedded_signatures
    status = await asyncio.to_thread(validate_pdf_signature, seal, trust, ts_validation_context=trust)
    assert not status.intact and not status.bottom_line
    exit_code, report = await asyncio.to_thread(pdf_verify, tmp_path, changed, ca_pem)
    assert exit_code == 1 and "seal_invalid" in {p["code"] for p in report["problems"]}, report


async def test_only_the_exports_readers_get_the_paper_and_only_once_approved(
    client: AsyncTestClient[Any], session: AsyncSession, visit: Visit
) -> None:
    pending = await written(client, visit)
    assert (await printed(client, pending, await login_as(client, "patient"))).status_code == 409  # RX-06
    decided = await review(client, await reviewing_pharmacist(client), pending, "approve")
    assert decided.status_code == 200, decided.text
    rx = decided.json()
    stranger = await new_patient(client, "李四", date(1980, 5, 6), "13900139000")
    refused = await printed(client, rx, stranger)
    assert refused.status_code in (403, 404) and b"%PDF" not in refused.content
    assert (await client.get(f"/api/prescriptions/{rx['prescription_id']}/document.pdf")).status_code == 401
    assert (await printed(client, rx, await login_as(client, "doctor"))).status_code == 200
    # the one print that succeeded is audited, with the export it read, in one transaction (SEC-02)
    actions = (await session.execute(select(AuditEntry.action).where(
        AuditEntry.subject_id == str(rx["prescription_id"]),
        col(AuditEntry.action).in_(["prescription.printed", "prescription.exported"])))).scalars().all()
    assert sorted(actions) == ["prescription.exported", "prescription.printed"]
