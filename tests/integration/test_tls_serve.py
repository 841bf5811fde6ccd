"""REC-03, encryption in transit: `hospital serve` terminates TLS itself when given a certificate and key
(HOSPITAL_TLS_CERT, HOSPITAL_TLS_KEY), and sends HSTS when its public URL is https."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import REPO
from tests.demo_server import free_port


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    cert, key_path = directory / "cert.pem", directory / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert, key_path


def test_hospital_serve_terminates_tls_with_its_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOSPITAL_ENV": "demo", "HOSPITAL_DATA_DIR": str(tmp_path / "data"),
           "HOSPITAL_TLS_CERT": str(cert), "HOSPITAL_TLS_KEY": str(key),
           "HOSPITAL_PUBLIC_URL": f"https://127.0.0.1:{port}", "HOSPITAL_FACE_WORKERS": "1"}
    env.pop("HOSPITAL_DATABASE_URL", None)
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "hospital", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                  cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            trusted = ssl.create_default_context(cafile=str(cert))
            deadline = time.monotonic() + 120
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the hospital did not start (exit {server.returncode}):\n{log_path.read_text()[-3000:]}")
                try:
                    response = httpx.get(f"https://127.0.0.1:{port}/health", verify=trusted, timeout=2)
                    break
                except httpx.HTTPError:
                    time.sleep(0.3)
            assert response.status_code == 200
            assert response.headers["strict-transport-security"].startswith("max-age=")
            with pytest.raises(httpx.HTTPError):  # plain http on the TLS port gets no answer
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
