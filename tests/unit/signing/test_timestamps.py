"""RFC 3161 time-stamp tokens (issue 19): the small TSA, the HTTP client for a TSA configured by URL, and the
checks that make a token prove a time or nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography import x509

from hospital.signing.ca import CertificateAuthority, Revocation, create_root_ca, generate_clinician_key
from hospital.signing.chain import TrustStore
from hospital.signing.timestamps import (
    HttpTimestamps,
    TimestampAuthority,
    TimestampInvalid,
    token_time,
    verify_timestamp,
)

from .conftest import NOW, Clinician

DATA = b"eyJhbGciOiJFUzI1NiJ9.eyJyeCI6MX0.c2lnbmF0dXJl"


@pytest.fixture
def tsa(ca: CertificateAuthority) -> TimestampAuthority:
    key = generate_clinician_key()
    return TimestampAuthority(ca.issue_tsa_certificate(key.public_key(), now=NOW), key, [ca.certificate])


def test_a_token_proves_its_time_for_its_document_only(ca: CertificateAuthority, tsa: TimestampAuthority) -> None:
    token = tsa.stamp(DATA, NOW + timedelta(minutes=3))
    trust = TrustStore([ca.certificate])
    assert verify_timestamp(token, DATA, trust, ca.build_crl([], now=NOW, crl_number=1)) == NOW + timedelta(minutes=3)
    assert token_time(token) == NOW + timedelta(minutes=3)
    with pytest.raises(TimestampInvalid, match="another document"):
        verify_timestamp(token, DATA + b"x", trust, None)
    with pytest.raises(TimestampInvalid, match="not issued by a trusted CA"):
        verify_timestamp(token, DATA, TrustStore([create_root_ca("别的医院", now=NOW).certificate]), None)


def test_a_token_signed_by_a_clinician_certificate_or_a_revoked_tsa_proves_nothing(
    ca: CertificateAuthority, tsa: TimestampAuthority, doctor: Clinician
) -> None:
    with pytest.raises(ValueError, match="timeStamping"):
        TimestampAuthority(doctor.certificate, doctor.private_key, [ca.certificate])
    token = tsa.stamp(DATA, NOW + timedelta(minutes=3))
    compromised = ca.build_crl([Revocation(tsa.certificate.serial_number, NOW + timedelta(days=1),
                                           x509.ReasonFlags.key_compromise)], now=NOW + timedelta(days=1), crl_number=2)
    with pytest.raises(TimestampInvalid, match="revoked"):
        verify_timestamp(token, DATA, TrustStore([ca.certificate]), compromised)


@pytest.fixture
def tsa_url(tsa: TimestampAuthority) -> Iterator[str]:
    """The TSA behind a real HTTP server on a free port, as a TSA configured by URL is reached."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            assert self.headers["Content-Type"] == "application/timestamp-query"
            reply = tsa.respond(body, NOW + timedelta(minutes=5))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
    thread.join()


def test_a_tsa_configured_by_url_is_asked_over_http(ca: CertificateAuthority, tsa_url: str) -> None:
    token = HttpTimestamps(tsa_url).stamp(DATA)
    assert verify_timestamp(token, DATA, TrustStore([ca.certificate]), None) == NOW + timedelta(minutes=5)
    with pytest.raises(TimestampInvalid, match="did not answer"):
        HttpTimestamps("http://127.0.0.1:9/tsa", timeout=1).stamp(DATA)
