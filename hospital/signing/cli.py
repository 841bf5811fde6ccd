"""`rx verify`: check a prescription export bundle offline, as a pharmacy or the regulator would (RX-05, RX-06).
`device-key`: a clinician's signing device key for scripts and vendors' clients; the key stays in the file.

Exit status of `rx verify`: 0 the bundle proves a validly signed, pharmacist-approved prescription; 1 it does
not (the JSON report lists each problem); 2 the bundle or a CA file cannot be read at all.

    hospital device-key new key.pem                       # prints the public key to register
    hospital device-key prove key.pem NONCE               # the proof of possession for POST /api/me/signing-devices
    hospital device-key sign key.pem chain.pem PAYLOAD_B64  # the JWS over a 428 answer's payload_b64
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from hospital.core.errors import InvalidInput
from hospital.signing.device import DeviceKey
from hospital.signing.pem import certificate_from_pem
from hospital.signing.verify_export import verify_export

__all__ = ["device_key", "rx"]

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


@click.group("device-key")
def device_key() -> None:
    """A clinician's signing device key for scripts and clients (RX-05): new, prove, sign."""


@device_key.command("new")
@click.argument("key_file", type=click.Path(path_type=Path, dir_okay=False))
def new_key(key_file: Path) -> None:
    """Write a new P-256 key to KEY_FILE (owner-only) and print its public key (SPKI, base64) to register."""
    if key_file.exists():
        raise click.ClickException(f"{key_file} exists; a device key is never overwritten")
    key = DeviceKey.generate()
    key_file.touch(mode=0o600)
    key_file.write_bytes(key.to_pem())
    click.echo(key.public_key_b64())


@device_key.command("prove")
@click.argument("key_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("nonce")
def prove(key_file: Path, nonce: str) -> None:
    """Print the proof of possession over NONCE (from POST /api/me/signing-devices/nonce)."""
    click.echo(DeviceKey.from_pem(key_file.read_bytes()).prove(nonce))


@device_key.command("sign")
@click.argument("key_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("chain_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("payload_b64")
def sign_payload(key_file: Path, chain_file: Path, payload_b64: str) -> None:
    """Print the compact JWS over PAYLOAD_B64 (a 428 answer's `payload_b64`) under the chain in CHAIN_FILE (the
    device's certificate, then the CA's, PEM)."""
    text = chain_file.read_text()
    marker = "-----END CERTIFICATE-----"
    chain = [part.strip() + "\n" + marker + "\n" for part in text.split(marker) if part.strip()]
    click.echo(DeviceKey.from_pem(key_file.read_bytes()).sign(payload_b64, chain))
