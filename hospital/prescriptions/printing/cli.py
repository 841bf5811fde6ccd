"""`hospital rx pdf-verify FILE`: check a printed 处方笺 offline (RX-05, RX-06), beside `hospital rx verify`.

Exit status: 0 the PDF is sealed by a trusted hospital, unaltered, and carries an export that verifies; 1 it is
not (the JSON report lists each problem); 2 the file or a CA file cannot be read.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from hospital.core.errors import InvalidInput
from hospital.prescriptions.printing.verify import verify_printed
from hospital.signing.cli import EXIT_INVALID, EXIT_UNREADABLE, EXIT_VALID, _parse_time, rx
from hospital.signing.pem import certificate_from_pem

__all__ = ["pdf_verify", "rx"]


@rx.command("pdf-verify")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--ca", "ca_files", multiple=True, required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="PEM certificate of a CA you trust (the hospital's, /.well-known/hospital-ca.pem); repeatable.")
@click.option("--at", "at_text", default=None, help="Check validity at this ISO 8601 time instead of now.")
def pdf_verify(file: Path, ca_files: tuple[Path, ...], at_text: str | None) -> None:
    """Verify a 处方笺 PDF FILE offline (seal, time-stamp, attached export, QR code); print a JSON report."""
    try:
        pdf = file.read_bytes()
        roots = [certificate_from_pem(path.read_bytes()) for path in ca_files]
        at = _parse_time(at_text)
    except (OSError, ValueError, InvalidInput) as exc:
        click.echo(json.dumps({"ok": False, "error": f"cannot read input: {getattr(exc, 'detail', None) or exc}"}))
        sys.exit(EXIT_UNREADABLE)
    report = asyncio.run(verify_printed(pdf, trusted_roots=roots, at=at))
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
    sys.exit(EXIT_VALID if report.ok else EXIT_INVALID)
