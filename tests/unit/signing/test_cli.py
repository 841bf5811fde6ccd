from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from hospital.signing.ca import CertificateAuthority
from hospital.signing.cli import rx
from hospital.signing.export import bundle_to_json
from hospital.signing.pem import certificate_to_pem

from .conftest import Clinician
from .test_export import make_bundle


def run(tmp_path: Path, bundle_bytes: bytes, *options: str) -> tuple[int, str]:
    path = tmp_path / "rx.json"
    path.write_bytes(bundle_bytes)
    result = CliRunner().invoke(rx, ["verify", str(path), *options, "--at", "2025-03-01T09:00:00+00:00"])
    return result.exit_code, result.output


def test_a_valid_bundle_exits_0_with_a_json_report(
    tmp_path: Path, ca: CertificateAuthority, doctor: Clinician, pharmacist: Clinician
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(certificate_to_pem(ca.certificate))
    code, output = run(tmp_path, bundle_to_json(make_bundle(ca, doctor, pharmacist)), "--ca", str(ca_file))
    assert code == 0
    assert json.loads(output)["ok"] is True


def test_an_invalid_bundle_exits_1_and_lists_problems(
    tmp_path: Path, ca: CertificateAuthority, doctor: Clinician, pharmacist: Clinician
) -> None:
    code, output = run(tmp_path, bundle_to_json(make_bundle(ca, doctor, pharmacist)))  # no --ca: CA untrusted
    assert code == 1
    assert [p["code"] for p in json.loads(output)["problems"]] == ["ca_not_trusted"]


def test_an_unreadable_file_exits_2(tmp_path: Path) -> None:
    code, output = run(tmp_path, b"{not json")
    assert code == 2
    assert json.loads(output)["ok"] is False
    missing = CliRunner().invoke(rx, ["verify", str(tmp_path / "absent.json")])
    assert missing.exit_code == 2
