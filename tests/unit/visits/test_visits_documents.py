"""Sniffing uploaded prior-diagnosis documents."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from hospital.core.errors import PayloadTooLarge, UnsupportedMediaType
from hospital.visits.intake.rules.evidence import DocumentKind, sniff_document

pytestmark = pytest.mark.requirement("REV-01")


def pdf_bytes() -> bytes:
    """A small real PDF, written by Pillow."""
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(out, format="PDF")
    return out.getvalue()


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "declared", "kind"),
    [
        (pdf_bytes(), "application/pdf", DocumentKind.PDF),
        (image_bytes("JPEG"), "image/jpeg", DocumentKind.JPEG),
        (image_bytes("PNG"), "Image/PNG; charset=binary", DocumentKind.PNG),
    ],
)
def test_real_documents_are_recognised(data: bytes, declared: str, kind: DocumentKind) -> None:
    assert sniff_document(data, declared) is kind


def test_a_jpeg_declared_as_pdf_is_refused() -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        sniff_document(image_bytes("JPEG"), DocumentKind.PDF)
    assert caught.value.extra["detected"] == "image/jpeg"


def test_a_fake_pdf_with_a_pdf_header_but_no_end_is_refused() -> None:
    fake = b"%PDF-1.7\n" + b"this is a renamed text file\n" * 100
    with pytest.raises(UnsupportedMediaType) as caught:
        sniff_document(fake, "application/pdf")
    assert "not a complete PDF" in caught.value.detail


def test_a_truncated_pdf_is_refused() -> None:
    data = pdf_bytes()
    with pytest.raises(UnsupportedMediaType):
        sniff_document(data[: len(data) // 2], "application/pdf")


def test_a_truncated_png_is_refused() -> None:
    with pytest.raises(UnsupportedMediaType):
        sniff_document(image_bytes("PNG")[:40], "image/png")


def test_a_word_document_is_not_an_accepted_type() -> None:
    with pytest.raises(UnsupportedMediaType):
        sniff_document(b"PK\x03\x04...", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def test_an_empty_upload_is_refused() -> None:
    with pytest.raises(UnsupportedMediaType):
        sniff_document(b"", "image/png")


def test_an_upload_over_the_limit_is_too_large() -> None:
    data = pdf_bytes()
    with pytest.raises(PayloadTooLarge) as caught:
        sniff_document(data, "application/pdf", max_bytes=len(data) - 1)
    assert caught.value.extra["limit"] == len(data) - 1
    assert sniff_document(data, "application/pdf", max_bytes=len(data)) is DocumentKind.PDF
