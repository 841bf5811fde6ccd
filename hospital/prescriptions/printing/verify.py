"""Offline check of a printed 处方笺 PDF, as a pharmacy would make it (`hospital rx pdf-verify`; RX-05, RX-06).

Four things must hold: the hospital's PAdES seal covers the whole file, is intact, and chains to a CA the verifier
trusts (with its RFC 3161 time-stamp, when present, valid under the same trust); the attached export bundle
verifies as `hospital rx verify` would verify it; the attached JWS are the bundle's own; and the QR code drawn on
the page is the one its text encodes, naming the bundle's prescription number and the SHA-256 of its payload.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from hospital.prescriptions.printing.document import SEAL_FIELD, attachments_of, qr_image_of, qr_matrix
from hospital.signing.canonical import payload_sha256
from hospital.signing.verify_export import verify_export

__all__ = ["ATTACHED_EXPORT", "ATTACHED_PRESCRIPTION_JWS", "ATTACHED_REVIEW_JWS", "PrintedReport", "verify_printed"]

ATTACHED_PRESCRIPTION_JWS = "prescription.jws"
ATTACHED_REVIEW_JWS = "review.jws"
ATTACHED_EXPORT = "export.json"


@dataclass
class PrintedReport:
    """`ok` only when there is no problem; `problems` name each failed check by a stable code."""

    problems: list[dict[str, str]] = field(default_factory=list)
    seal: dict[str, Any] = field(default_factory=dict)
    export: dict[str, Any] | None = None
    qr_text: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, code: str, message: str) -> None:
        self.problems.append({"code": code, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, "seal": self.seal, "export": self.export,
                "qr_text": self.qr_text}


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


async def verify_printed(pdf: bytes, *, trusted_roots: Sequence[x509.Certificate], at: datetime | None = None
                         ) -> PrintedReport:
    """Check a sealed 处方笺 offline at `at` (default now) against `trusted_roots` (the hospital CA)."""
    report = PrintedReport()
    moment = at or datetime.now(UTC)
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError) as exc:
        report.problem("pdf_unreadable", f"the file is not a readable PDF: {exc}")
        return report
    sealed = [s for s in signatures if s.field_name == SEAL_FIELD]
    if not sealed:
        report.problem("seal_missing", "the file carries no hospital seal")
        return report
    context = ValidationContext(trust_roots=[_asn1(root) for root in trusted_roots], moment=moment)
    try:
        status = await async_validate_pdf_signature(sealed[0], context, ts_validation_context=context)
    except (PdfError, ValueError) as exc:
        report.problem("seal_invalid", f"the seal cannot be checked: {exc}")
        return report
    report.seal = {"intact": status.intact, "valid": status.valid, "trusted": status.trusted,
                   "coverage": status.coverage.name if status.coverage else None,
                   "signer": status.signing_cert.subject.human_friendly,
                   "timestamp": status.timestamp_validity.timestamp.isoformat() if status.timestamp_validity else None}
    if not (status.intact and status.valid):
        report.problem("seal_invalid", "the file was changed after the hospital sealed it, or the seal is broken")
    elif not status.trusted:
        report.problem("seal_untrusted", "the seal does not chain to a trusted hospital CA")
    if status.coverage is not SignatureCoverageLevel.ENTIRE_FILE:
        report.problem("seal_partial", "the seal does not cover the whole file")
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid and stamp.trusted):
        report.problem("timestamp_invalid", "the seal's time-stamp is not valid under the trusted CA")
    try:
        _check_contents(report, reader, trusted_roots, moment)
    except (PdfError, ValueError, KeyError, TypeError, zlib.error) as exc:  # a damaged stream: report, never crash
        report.problem("pdf_damaged", f"the file's contents cannot be read: {exc}")
    return report


def _check_contents(report: PrintedReport, reader: PdfFileReader, trusted_roots: Sequence[x509.Certificate],
                    moment: datetime) -> None:
    try:
        attached = attachments_of(reader)
        bundle = json.loads(attached[ATTACHED_EXPORT])
    except (KeyError, ValueError, PdfError) as exc:
        report.problem("export_missing", f"the export bundle is not attached: {exc}")
        return
    export = verify_export(bundle, trusted_roots=trusted_roots, at=moment)
    report.export = export.as_dict()
    if not export.ok:
        report.problem("export_invalid", "the attached export bundle does not verify (see `export`)")
    for name, key in ((ATTACHED_PRESCRIPTION_JWS, "prescription_jws"), (ATTACHED_REVIEW_JWS, "review_jws")):
        if attached.get(name, b"").decode("ascii", "replace") != bundle.get(key):
            report.problem("attachment_mismatch", f"{name} is not the export's {key}")
    try:
        text, drawn = qr_image_of(reader)
    except (KeyError, ValueError, PdfError) as exc:
        report.problem("qr_missing", f"the page carries no QR code: {exc}")
        return
    report.qr_text = text
    if drawn != qr_matrix(text):
        report.problem("qr_mismatch", "the QR code drawn is not the one its text encodes")
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    prescription = bundle.get("prescription")
    if not isinstance(prescription, dict) or fields.get("sha256") != payload_sha256(prescription):
        report.problem("qr_mismatch", "the QR code's hash is not the SHA-256 of the signed payload")
    elif fields.get("number") != prescription.get("prescription_number"):
        report.problem("qr_mismatch", "the QR code's number is not the prescription's")
