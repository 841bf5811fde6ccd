"""The gateway's request envelope: building a signed request, and the platform's check of one (SUP-02).

Signing (supervision-gateway.md): X-Content-MD5 is SM3 (uppercase hex) of the body as sent; the signing
string is every signed header sorted by name as `lowercase-name:value`, joined with `&`; X-Ca-Signature is
its SM3 in uppercase hex. The body is bound only through X-Content-MD5. The check raises a `GatewayRefusal`
subclass whose `code` is the gateway code the platform answers with.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from connectors.supervision.gateway.sm import CipherError, decrypt, encrypt, sm3_hex
from hospital.core.errors import InvalidInput

__all__ = [
    "API_PATH",
    "SERVICE_ID",
    "SIGNED_HEADERS",
    "UPLOAD_METHOD",
    "UPLOAD_PATH",
    "BadParameters",
    "BadSignature",
    "GatewayRefusal",
    "IpNotAllowed",
    "KeyMismatch",
    "MemoryNonceStore",
    "NonceStore",
    "ReplayedNonce",
    "RequestExpired",
    "SignedRequest",
    "VerifiedRequest",
    "build_request",
    "build_upload_request",
    "content_digest",
    "dump_records",
    "sign",
    "signing_string",
    "verify_request",
]

SERVICE_ID = "his.provinceDataUploadService"
API_PATH = "/openapi/api"
UPLOAD_PATH = "/openapi/api/uploadFile"
UPLOAD_METHOD = "uploadFile"
# Canonical spelling of the signed headers; the signing string lowercases them (V5, V7).
SIGNED_HEADERS = ("X-Ca-Key", "X-Ca-Nonce", "X-Ca-Timestamp", "X-Content-MD5", "X-Service-Id", "X-Service-Method")


class GatewayRefusal(InvalidInput):
    """The gateway refuses the request before any business check; `code` is its gateway code."""

    code = 40001
    title = "Refused by the gateway"


class BadParameters(GatewayRefusal):
    code = 40001


class KeyMismatch(GatewayRefusal):
    code = 40004


class IpNotAllowed(GatewayRefusal):
    code = 40007


class BadSignature(GatewayRefusal):
    code = 40010


class RequestExpired(GatewayRefusal):
    code = 40011


class ReplayedNonce(GatewayRefusal):
    """A nonce seen before inside the window. The SDK is silent on a replay (its platform folds it into 40011);
    the simulator answers 40012 so a client can tell a replay from a clock out of step (docs/connector.md)."""

    code = 40012


class NonceStore(Protocol):
    def remember(self, nonce: str, now_ms: int) -> bool:
        """Record `nonce`; False when it was already recorded (a replay)."""
        ...


class MemoryNonceStore:
    """Nonces seen in the last `keep_ms`, in memory; older ones are forgotten (the window refuses them anyway)."""

    def __init__(self, keep_ms: int) -> None:
        self._keep_ms = keep_ms
        self._seen: dict[str, int] = {}

    def remember(self, nonce: str, now_ms: int) -> bool:
        if len(self._seen) > 1024:
            self._seen = {n: t for n, t in self._seen.items() if now_ms - t <= self._keep_ms}
        if nonce in self._seen and now_ms - self._seen[nonce] <= self._keep_ms:
            return False
        self._seen[nonce] = now_ms
        return True


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What goes on the wire: path, headers, and the body text (hex ciphertext or plaintext JSON)."""

    path: str
    headers: dict[str, str]
    body: str

    @property
    def nonce(self) -> str:
        return self.headers["X-Ca-Nonce"]


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """A request the gateway accepted: the method and the decoded records."""

    method: str
    records: list[Any]
    nonce: str
    timestamp_ms: int


def content_digest(body: str) -> str:
    """X-Content-MD5: despite the name, SM3 of the body text in uppercase hex (V4)."""
    return sm3_hex(body).upper()


def signing_string(headers: Mapping[str, str]) -> str:
    """`lowercase-name:value` of the signed headers sorted by name, joined with `&` (V5)."""
    return "&".join(f"{name.lower()}:{headers[name]}" for name in sorted(SIGNED_HEADERS, key=str.lower))


def _sign(headers: dict[str, str]) -> dict[str, str]:
    headers["X-Ca-Signature-Headers"] = ",".join(sorted(name.lower() for name in SIGNED_HEADERS))
    headers["X-Ca-Signature"] = sm3_hex(signing_string(headers)).upper()
    return headers


def sign(
    method: str,
    body: str,
    *,
    app_key: str,
    path: str = API_PATH,
    nonce: str | None = None,
    timestamp_ms: int | None = None,
) -> SignedRequest:
    """Sign `body` exactly as it will be sent (hex ciphertext, or plaintext JSON for uploadFile)."""
    headers = {
        "Content-Type": "application/json",
        "X-Service-Id": SERVICE_ID,
        "X-Service-Method": method,
        "X-Ca-Key": app_key,
        "X-Ca-Nonce": nonce or str(uuid.uuid4()),
        "X-Ca-Timestamp": str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)),
        "X-Content-MD5": content_digest(body),
    }
    return SignedRequest(path, _sign(headers), body)


def dump_records(records: Sequence[Any]) -> bytes:
    """The business payload: a JSON array, UTF-8, compact."""
    return json.dumps(list(records), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build_request(
    method: str,
    records: Sequence[Any],
    *,
    app_key: str,
    app_secret: str,
    nonce: str | None = None,
    timestamp_ms: int | None = None,
) -> SignedRequest:
    """An encrypted, signed request for `method` carrying `records` (a fresh uuid4 nonce and the time now)."""
    body = encrypt(dump_records(records), app_secret)
    return sign(method, body, app_key=app_key, nonce=nonce, timestamp_ms=timestamp_ms)


def build_upload_request(
    files: Sequence[Mapping[str, Any]],
    *,
    app_key: str,
    nonce: str | None = None,
    timestamp_ms: int | None = None,
) -> SignedRequest:
    """The uploadFile variant: plaintext JSON `[{fileName, contentBase64, size, type}]`, same signature."""
    body = dump_records([dict(f) for f in files]).decode("utf-8")
    return sign(UPLOAD_METHOD, body, app_key=app_key, path=UPLOAD_PATH, nonce=nonce, timestamp_ms=timestamp_ms)


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get(name.lower(), "")
    if not value:
        raise BadParameters(f"missing header {name}")
    return value


def verify_request(
    headers: Mapping[str, str],
    body: str,
    *,
    app_key: str,
    app_secret: str | None,
    nonces: NonceStore,
    window_ms: int,
    now_ms: int | None = None,
) -> VerifiedRequest:
    """The platform's check of a request, in its order: headers, key, timestamp window, content digest,
    signature, nonce replay, then decryption (skipped when `app_secret` is None: the uploadFile variant).
    Raises the `GatewayRefusal` subclass carrying the gateway code."""
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    values = {name: _header(headers, name) for name in (*SIGNED_HEADERS, "X-Ca-Signature-Headers", "X-Ca-Signature")}
    if values["X-Service-Id"] != SERVICE_ID:
        raise BadParameters(f"unknown X-Service-Id {values['X-Service-Id']!r}")
    if values["X-Ca-Key"] != app_key:
        raise KeyMismatch("X-Ca-Key does not match the unit's appKey")
    try:
        timestamp = int(values["X-Ca-Timestamp"])
    except ValueError as exc:
        raise BadParameters("X-Ca-Timestamp is not milliseconds") from exc
    if abs(now - timestamp) > window_ms:
        raise RequestExpired(f"X-Ca-Timestamp is {abs(now - timestamp) // 1000} s away from the platform's clock")
    if values["X-Content-MD5"] != content_digest(body):
        raise BadSignature("X-Content-MD5 does not match the body")
    expected_names = ",".join(sorted(name.lower() for name in SIGNED_HEADERS))
    if values["X-Ca-Signature-Headers"] != expected_names:
        raise BadSignature(f"X-Ca-Signature-Headers must be {expected_names}")
    if values["X-Ca-Signature"] != sm3_hex(signing_string(values)).upper():
        raise BadSignature("X-Ca-Signature does not match")
    # Only a correctly signed request may use up a nonce, so a forger cannot burn the hospital's nonces.
    if not nonces.remember(values["X-Ca-Nonce"], now):
        raise ReplayedNonce("X-Ca-Nonce was already used")
    records = _decode(body, app_secret)
    return VerifiedRequest(values["X-Service-Method"], records, values["X-Ca-Nonce"], timestamp)


def _decode(body: str, app_secret: str | None) -> list[Any]:
    try:
        plaintext = decrypt(body, app_secret) if app_secret is not None else body.encode("utf-8")
    except CipherError as exc:
        raise BadParameters(f"body cannot be decrypted: {exc.detail}") from exc
    try:
        payload = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadParameters("body is not UTF-8 JSON") from exc
    if not isinstance(payload, list):
        raise BadParameters("body must be a JSON array of records")
    return payload
