"""What an uploaded prior-diagnosis document really is (REV-01), judged from its bytes. Pure."""

from __future__ import annotations

import enum

from hospital.core.errors import PayloadTooLarge, UnsupportedMediaType

__all__ = ["MAX_DOCUMENT_BYTES", "DocumentKind", "sniff_document"]

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # a multi-page scanned discharge summary fits; a video does not
_TAIL = 1024  # readers accept trailing bytes after %%EOF / IEND within this distance of the end


class DocumentKind(enum.StrEnum):
    """Accepted upload types, by media type."""

    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"


def _detect(data: bytes) -> DocumentKind | None:
    if data.startswith(b"%PDF-"):
        # A PDF ends with %%EOF; without it the file is truncated or only pretends to be a PDF.
        return DocumentKind.PDF if b"%%EOF" in data[-_TAIL:] else None
    if data.startswith(b"\xff\xd8\xff"):
        # Phones append data after the JPEG end marker (motion photos), so only the start is checked.
        return DocumentKind.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return DocumentKind.PNG if b"IEND" in data[-_TAIL:] else None
    return None


def sniff_document(data: bytes, declared_type: DocumentKind | str, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> DocumentKind:
    """The kind of `data`, which must be what `declared_type` says; PayloadTooLarge over `max_bytes`,
    UnsupportedMediaType for another type, an empty file or content that does not match."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the document is {len(data)} bytes; the limit is {max_bytes}", limit=max_bytes)
    declared_text = declared_type.split(";")[0].strip().lower()
    try:
        declared = DocumentKind(declared_text)
    except ValueError:
        accepted = ", ".join(k.value for k in DocumentKind)
        raise UnsupportedMediaType(f"{declared_text!r} is not accepted; send one of: {accepted}") from None
    if not data:
        raise UnsupportedMediaType("the document is empty")
    found = _detect(data)
    if found is not declared:
        what = f"a {found.name} file" if found else "not a complete PDF, JPEG or PNG file"
        raise UnsupportedMediaType(
            f"declared {declared.value}, but the content is {what}",
            declared=declared.value,
            detected=found.value if found else None,
        )
    return found
