"""Trusted time (RFC 3161, issue 19): every signature gets a time-stamp token from the TSA (here the hospital's own
small TSA, its certificate under the hospital CA); the export carries the tokens and the CRL, so `hospital rx verify`
proves the signatures were valid when made, after the certificates expired; without the tokens it cannot."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography import x509
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import func, select

from hospital.context import HospitalContext
from hospital.signing.cli import rx as rx_cli
from hospital.signing.export import bundle_to_json
from hospital.signing.models import SignatureTimestamp
from hospital.signing.timestamps import TIMESTAMP_QUERY, timestamp_request, token_from_response
from hospital.visits.booking.models import Visit
from tests.helpers import login_as
from tests.integration.prescriptions.helpers import approved


def leaf(jws: str) -> x509.Certificate:
    header = json.loads(base64.urlsafe_b64decode(jws.split(".")[0] + "=="))
    return x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))


def cli_verify(tmp_path: Path, bundle: dict[str, Any], ca_pem: str, at: str) -> tuple[int, dict[str, Any]]:
    (tmp_path / "rx.json").write_bytes(bundle_to_json(bundle))
    (tmp_path / "ca.pem").write_text(ca_pem)
    result = CliRunner().invoke(rx_cli, ["verify", str(tmp_path / "rx.json"), "--ca", str(tmp_path / "ca.pem"),
                                         "--at", at])
    return result.exit_code, json.loads(result.output)


def codes(report: dict[str, Any]) -> set[str]:
    return {p["code"] for p in report["problems"]}


async def exported(client: AsyncTestClient[Any], visit: Visit) -> dict[str, Any]:
    rx, _ = await approved(client, visit)
    response = await client.get(f"/api/prescriptions/{rx['prescription_id']}/export",
                                headers=await login_as(client, "patient"))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_an_export_verifies_years_after_its_certificates_expired_and_not_without_its_timestamps(
    client: AsyncTestClient[Any], ctx: HospitalContext, session: AsyncSession, visit: Visit, tmp_path: Path
) -> None:
    bundle = await exported(client, visit)
    assert set(bundle["timestamps"]) == {"prescription_jws", "review_jws"}
    assert (await session.execute(select(func.count()).select_from(SignatureTimestamp))).scalar_one() == 2
    expiry = max(leaf(bundle["prescription_jws"]).not_valid_after_utc, leaf(bundle["review_jws"]).not_valid_after_utc)
    later = (expiry + timedelta(days=400)).isoformat()
    ca_pem = (await client.get("/.well-known/hospital-ca.pem")).text
    exit_code, report = cli_verify(tmp_path, bundle, ca_pem, later)
    assert exit_code == 0 and report["ok"] is True, report["problems"]
    assert set(report["timestamped_at"]) == {"doctor", "reviewer"}
    assert report["timestamped_at"]["doctor"] <= report["timestamped_at"]["reviewer"] < expiry.isoformat()

    unstamped = {k: v for k, v in bundle.items() if k != "timestamps"}
    exit_code, report = cli_verify(tmp_path, unstamped, ca_pem, later)
    assert exit_code == 1 and {"doctor_certificate_expired", "reviewer_certificate_expired"} <= codes(report)
    assert "doctor_no_timestamp" in {w["code"] for w in report["warnings"]}


@pytest.mark.parametrize("change", ["flip_a_byte", "swap_tokens"])
async def test_a_timestamp_token_changed_or_moved_to_another_signature_proves_nothing(
    client: AsyncTestClient[Any], visit: Visit, tmp_path: Path, change: str
) -> None:
    bundle = await exported(client, visit)
    stamps = bundle["timestamps"]
    if change == "flip_a_byte":
        token = bytearray(base64.b64decode(stamps["prescription_jws"]))
        token[-10] ^= 0x01
        stamps["prescription_jws"] = base64.b64encode(bytes(token)).decode()
    else:
        stamps["prescription_jws"], stamps["review_jws"] = stamps["review_jws"], stamps["prescription_jws"]
    online = (await client.post("/api/rx/verify", json=bundle)).json()
    assert online["ok"] is False and "doctor_timestamp_invalid" in codes(online)


async def test_the_hospital_tsa_answers_rfc3161_requests_that_openssl_verifies(
    client: AsyncTestClient[Any], tmp_path: Path, demo: None
) -> None:
    document = b"any document the hospital is asked to time-stamp"
    response = await client.post("/tsa", content=timestamp_request(document, nonce=7),
                                 headers={"Content-Type": TIMESTAMP_QUERY})
    assert response.status_code == 200 and response.headers["content-type"] == "application/timestamp-reply"
    token_from_response(response.content, document, nonce=7)
    (tmp_path / "reply.der").write_bytes(response.content)
    (tmp_path / "document").write_bytes(document)
    (tmp_path / "ca.pem").write_text((await client.get("/.well-known/hospital-ca.pem")).text)
    checked = subprocess.run(["openssl", "ts", "-verify", "-in", str(tmp_path / "reply.der"), "-data",
                              str(tmp_path / "document"), "-CAfile", str(tmp_path / "ca.pem")],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr
    (tmp_path / "document").write_bytes(document + b"!")
    altered = subprocess.run(["openssl", "ts", "-verify", "-in", str(tmp_path / "reply.der"), "-data",
                              str(tmp_path / "document"), "-CAfile", str(tmp_path / "ca.pem")],
                             capture_output=True, text=True, check=False)
    assert altered.returncode != 0
