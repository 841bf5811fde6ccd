"""`gateway encrypt|decrypt`: the gateway's SM4 body cipher for vendors checking their own implementation."""

from __future__ import annotations

import sys

import click

from connectors.supervision.gateway.sm import CipherError, decrypt, encrypt

__all__ = ["gateway"]

_SECRET = click.option("--app-secret", required=True, metavar="HEX", help="the unit's appSecret (32 hex characters)")


@click.group(name="gateway")
def gateway() -> None:
    """The supervision gateway's SM4-CBC body cipher (fixed IV, ISO/IEC 7816-4 padding, lowercase hex)."""


@gateway.command(name="encrypt")
@_SECRET
def encrypt_stdin(app_secret: str) -> None:
    """Encrypt standard input (the bytes as they are) and print lowercase hex."""
    try:
        click.echo(encrypt(sys.stdin.buffer.read(), app_secret))
    except CipherError as exc:
        raise click.ClickException(exc.detail) from exc


@gateway.command(name="decrypt")
@_SECRET
def decrypt_stdin(app_secret: str) -> None:
    """Decrypt hex from standard input (surrounding whitespace ignored) and write the plaintext bytes."""
    try:
        text = sys.stdin.buffer.read().decode("ascii").strip()
        plaintext = decrypt(text, app_secret)
    except UnicodeDecodeError as exc:
        raise click.ClickException("input is not hex text") from exc
    except CipherError as exc:
        raise click.ClickException(exc.detail) from exc
    sys.stdout.buffer.write(plaintext)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    gateway()
