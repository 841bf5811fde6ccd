"""`rx verify`: check a prescription export bundle offline, as a pharmacy or the regulator would (RX-05, RX-06).

Exit status: 0 the bundle proves a validly signed, pharmacist-approved prescription; 1 it does not (the JSON
report lists each problem); 2 the bundle or a CA file cannot be read at all.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from hospital.core.errors import InvalidInput
from hospital.signing.pem import certificate_from_pem
from hospital.signing.verify_export import verify_export

__all__ = ["rx"]

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


@click.group("rx")
def rx() -> None:
    """Prescription signatures (RX-05, RX-06)."""


@rx.command("verify")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--ca", "ca_files", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="PEM certificate of a CA you trust (the hospital's); repeatable.")
@click.option("--ca-fingerprint", "fingerprints", multiple=True,
              help="SHA-256 fingerprint (hex) of a CA you trust; trusts the bundle's CA if it matches.")
@click.option("--at", "at_text", default=None, help="Check validity at this ISO 8601 time instead of now.")
def verify_command(file: Path, ca_files: tuple[Path, ...], fingerprints: tuple[str, ...], at_text: str | None) -> None:
    """Verify an export bundle FILE offline and print a JSON report."""
    try:
        bundle = json.loads(file.read_bytes())
        roots = [certificate_from_pem(path.read_bytes()) for path in ca_files]
        at = _parse_time(at_text)
    except (OSError, ValueError, InvalidInput) as exc:
        _print({"ok": False, "error": f"cannot read input: {getattr(exc, 'detail', None) or exc}"})
        sys.exit(EXIT_UNREADABLE)
    report = verify_export(bundle, trusted_roots=roots, trusted_ca_fingerprints=fingerprints, at=at)
    _print(report.as_dict())
    sys.exit(EXIT_VALID if report.ok else EXIT_INVALID)


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _print(document: dict[str, object]) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))
