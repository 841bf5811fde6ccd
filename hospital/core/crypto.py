"""Field encryption at rest (REC-03) and keyed hashes for equality search.

Sensitive fields (ID numbers, phones, diagnoses, face templates, documents) are sealed with AES-256-GCM under
the configured field key; the associated data names the field so a value moved to another column fails to open.
What must be found by equality (an ID number for uniqueness, a phone for log-in) gets an HMAC-SHA256 beside it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hospital.core.errors import IntegrityFailure

__all__ = ["FieldCipher", "SealedValueError"]

_VERSION = b"\x01"


class SealedValueError(IntegrityFailure):
    title = "Stored value cannot be opened"


class FieldCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the field key must be 32 bytes")
        self._aead = AESGCM(key)
        # A separate key for hashing, derived so one secret serves both without reuse.
        self._hash_key = hmac.new(key, b"hospital keyed hash v1", hashlib.sha256).digest()
        self._derive_key = hmac.new(key, b"hospital derived keys v1", hashlib.sha256).digest()

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, *, context: str) -> bytes:
        if not sealed or sealed[:1] != _VERSION:
            raise SealedValueError(f"unknown sealed-value format for {context}")
        try:
            return self._aead.decrypt(sealed[1:13], sealed[13:], context.encode())
        except InvalidTag as exc:
            raise SealedValueError(f"sealed value for {context} fails its integrity check") from exc

    def seal_text(self, text: str, *, context: str) -> bytes:
        return self.seal(text.encode(), context=context)

    def open_text(self, sealed: bytes, *, context: str) -> str:
        return self.open(sealed, context=context).decode()

    def seal_json(self, value: Any, *, context: str) -> bytes:
        """A JSON value sealed whole (a row's clinical details, REC-03): `None` is sealed too, so the column
        never tells by being empty whether there is anything to hide (an infectious-disease flag, a guardian)."""
        return self.seal(json.dumps(value, ensure_ascii=False, sort_keys=True).encode(), context=context)

    def open_json(self, sealed: bytes, *, context: str) -> Any:
        return json.loads(self.open(sealed, context=context))

    def derived_aead(self, label: str) -> AESGCM:
        """An AES-256-GCM under a key derived from the field key for one purpose (the chunked blob format),
        so its nonces never share a key with the field seals."""
        return AESGCM(hmac.new(self._derive_key, label.encode(), hashlib.sha256).digest())

    def keyed_hash(self, value: str, *, context: str) -> str:
        return hmac.new(self._hash_key, f"{context}\x00{value}".encode(), hashlib.sha256).hexdigest()
