"""The app ↔ media worker signature (hospital/video/internal.py): a worker serves only what its app signed."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from hospital.video.internal import SIGNATURE_HEADER, TIME_HEADER, WORKER_HEADER, sign, signature_middleware, verify

SECRET = "a-test-media-secret-of-at-least-32-bytes"


def test_a_signed_request_verifies_and_any_change_or_age_does_not() -> None:
    headers = sign(SECRET, "POST", "/api/visits/1/call/offer", b'{"sdp": "v=0"}', now=1000)
    stamp, mac = headers[TIME_HEADER], headers[SIGNATURE_HEADER]
    assert verify(SECRET, "POST", "/api/visits/1/call/offer", b'{"sdp": "v=0"}', stamp, mac, now=1010)
    assert not verify(SECRET, "POST", "/api/visits/1/call/offer", b'{"sdp": "v=1"}', stamp, mac, now=1010)  # body
    assert not verify(SECRET, "POST", "/api/visits/2/call/offer", b'{"sdp": "v=0"}', stamp, mac, now=1010)  # path
    assert not verify(SECRET, "GET", "/api/visits/1/call/offer", b'{"sdp": "v=0"}', stamp, mac, now=1010)  # method
    assert not verify("another-secret-of-at-least-32-bytes!!", "POST", "/api/visits/1/call/offer",
                      b'{"sdp": "v=0"}', stamp, mac, now=1010)
    assert not verify(SECRET, "POST", "/api/visits/1/call/offer", b'{"sdp": "v=0"}', stamp, mac, now=1000 + 61)
    assert not verify(SECRET, "POST", "/api/visits/1/call/offer", b'{"sdp": "v=0"}', "", mac, now=1000)


def _call(scope: dict[str, Any], body: bytes = b"") -> tuple[list[dict[str, Any]], list[bytes]]:
    """Run the worker's middleware around an app that echoes the body's hash; what was sent, what it read."""
    read: list[bytes] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        read.append(message.get("body", b""))
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": hashlib.sha256(read[0]).hexdigest().encode()})

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False} if scope["type"] == "http" else \
            {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(signature_middleware(SECRET, "media-1")(app)(scope, receive, send))  # type: ignore[arg-type]
    return sent, read


def _scope(kind: str, path: str, headers: dict[str, str], method: str = "POST") -> dict[str, Any]:
    return {"type": kind, "path": path, "query_string": b"", "method": method,
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}


def test_the_worker_refuses_what_its_app_did_not_sign_and_passes_on_what_it_did() -> None:
    body = b'{"sdp": "v=0"}'
    sent, read = _call(_scope("http", "/api/visits/1/call/offer", {}), body)
    assert sent[0]["status"] == 401 and not read  # unsigned: the handler never runs
    forged = sign(SECRET, "POST", "/api/visits/1/call/offer", b"something else")
    sent, read = _call(_scope("http", "/api/visits/1/call/offer", forged), body)
    assert sent[0]["status"] == 401 and not read
    signed = sign(SECRET, "POST", "/api/visits/1/call/offer", body)
    sent, read = _call(_scope("http", "/api/visits/1/call/offer", signed), body)
    assert sent[0]["status"] == 200 and read == [body]  # the body read for the check is handed on unchanged
    assert (WORKER_HEADER.encode(), b"media-1") in sent[0]["headers"]
    sent, _ = _call(_scope("websocket", "/api/visits/1/call/events", {}))
    assert sent == [{"type": "websocket.close", "code": 4401, "reason": "not signed by the hospital's app"}]
    sent, _ = _call(_scope("websocket", "/api/visits/1/call/events", sign(SECRET, "WEBSOCKET",
                                                                       "/api/visits/1/call/events")))
    assert sent == [{"type": "websocket.accept"}]
    sent, _ = _call(_scope("http", "/ready", {}, method="GET"))  # the worker's probes need no signature
    assert sent[0]["status"] == 200
