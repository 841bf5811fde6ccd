"""The signature between the app and its media workers (HMAC-SHA256 with HOSPITAL_MEDIA_SECRET).

A worker serves the call's signalling only to its app: every request carries the time and an HMAC over the time,
the method, the path with its query and the body's SHA-256. The worker still authenticates the user from the
browser's own token (it forwards it unchanged); the signature says the request came through an app replica, which
placed the call there, and never trusts the browser to pick a worker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from litestar.types import ASGIApp

from hospital.web.http import replayed_receive

# Plain ASGI messages (dicts) in and out: litestar's TypedDict unions do not fit a proxy that passes them on.
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
RawApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["SIGNATURE_HEADER", "TIME_HEADER", "WORKER_HEADER", "read_body", "sign", "signature_middleware", "verify"]

TIME_HEADER = "x-hospital-media-time"
SIGNATURE_HEADER = "x-hospital-media-signature"
WORKER_HEADER = "x-hospital-media-worker"  # names the worker that answered (as X-Hospital-Replica the replica)
MAX_SKEW_S = 60  # a signed request older (or newer) than this is refused: a captured one cannot be replayed later
UNSIGNED_PATHS = ("/health", "/ready")  # the worker's probes: no signalling, nothing of a patient's


def _mac(secret: str, stamp: str, method: str, target: str, body: bytes) -> str:
    message = "\n".join((stamp, method.upper(), target, hashlib.sha256(body).hexdigest())).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, method: str, target: str, body: bytes = b"", *, now: float | None = None) -> dict[str, str]:
    """The headers that sign one request; `target` is the path and, if any, `?` and the query."""
    stamp = str(int(time.time() if now is None else now))
    return {TIME_HEADER: stamp, SIGNATURE_HEADER: _mac(secret, stamp, method, target, body)}


def verify(secret: str, method: str, target: str, body: bytes, stamp: str, signature: str, *,
           now: float | None = None) -> bool:
    if not stamp.isdigit() or abs((time.time() if now is None else now) - int(stamp)) > MAX_SKEW_S:
        return False
    return hmac.compare_digest(_mac(secret, stamp, method, target, body), signature)


def _target(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return scope["path"] + (f"?{query}" if query else "")


def signature_middleware(secret: str, worker_id: str) -> Callable[[ASGIApp], ASGIApp]:
    """The worker's outermost layer: anything but its probes must be signed by the app, else 401 (HTTP) or a
    socket closed before it opens."""

    def wrap(app: ASGIApp) -> ASGIApp:
        inner = cast(RawApp, app)

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] not in ("http", "websocket") or scope["path"] in UNSIGNED_PATHS:
                await inner(scope, receive, send)
                return
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
            method = scope.get("method", "GET") if scope["type"] == "http" else "WEBSOCKET"
            body, replay = b"", receive
            if scope["type"] == "http":
                body = await read_body(receive)
                replay = replayed_receive(body, receive)
            if not verify(secret, method, _target(scope), body, headers.get(TIME_HEADER, ""),
                          headers.get(SIGNATURE_HEADER, "")):
                await _refuse(scope, send)
                return
            named = worker_id.encode()

            async def send_named(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message.get("headers", []), (WORKER_HEADER.encode(), named)]}
                await send(message)

            await inner(scope, replay, send_named)

        return cast(ASGIApp, middleware)

    return wrap


async def read_body(receive: Receive) -> bytes:
    """The whole body of an HTTP request, from its ASGI messages (the worker's check and the app's proxy)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _refuse(scope: Scope, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4401, "reason": "not signed by the hospital's app"})
        return
    problem = json.dumps({"title": "Not authenticated", "status": 401,
                          "detail": "media worker: the request is not signed by the hospital's app"}).encode()
    await send({"type": "http.response.start", "status": 401,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(problem)).encode())]})
    await send({"type": "http.response.body", "body": problem})
