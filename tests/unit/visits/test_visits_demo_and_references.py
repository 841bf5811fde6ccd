"""The generated demo document is a real PDF, and retention sees every column that names a blob."""

from __future__ import annotations

from hospital.demo import demo_pdf
from hospital.retention.service import _blob_references
from hospital.visits.intake.rules.evidence import DocumentKind, sniff_document


def test_the_demo_outpatient_record_is_accepted_as_a_pdf() -> None:
    document = demo_pdf(["Outpatient record (demo)", "Diagnosis: I10 (essential) hypertension"])
    assert sniff_document(document, "application/pdf") is DocumentKind.PDF
    assert b"/BaseFont /Helvetica" in document and document.rstrip().endswith(b"%%EOF")


def test_retention_holds_blobs_named_by_a_foreign_key_or_by_a_sha256_column() -> None:
    named = {f"{c.table.name}.{c.name}" for c in _blob_references()}
    assert {"prior_diagnosis.document_sha256", "staff_member.photo_sha256"} <= named
    assert not any(name.startswith("blob.") for name in named)
