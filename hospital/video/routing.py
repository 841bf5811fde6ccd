"""The app's side of media workers: a call's signalling and events socket, proxied to the worker holding it.

With HOSPITAL_MEDIA_WORKERS on, the handlers of `hospital.video.api` marked `opt={"media": "call"}` are not run in
the app: `media_routing_middleware` (after authentication, so only a logged-in user gets this far) places the call
(`placement.place_call`), signs the request (`internal.sign`) and forwards it, the user's token and the client's
address included, to the worker, whose answer goes back unchanged. The events socket is relayed both ways; when
the worker goes away the page's socket closes with 1012 (service restart) and the page rejoins, which places the
call on a live worker. `opt={"media": "fan_out"}` (the doctor's waiting list) asks every live worker and merges.

Why the app proxies rather than nginx routing to workers: the placement is in the database, which nginx cannot
read, any replica can route any call, and the workers' signalling ports stay internal (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp

from hospital.config import Settings
from hospital.core.errors import HospitalError, ServiceUnavailable
from hospital.core.problems import status_for
from hospital.video.calls import SessionFactory
from hospital.video.internal import SIGNATURE_HEADER, TIME_HEADER, WORKER_HEADER, read_body, sign
from hospital.video.placement import Placed, live_workers, place_call
from hospital.web.http import actor_of

if TYPE_CHECKING:  # aiohttp is imported by the app only when it routes calls to workers (start-up time)
    import aiohttp

# Plain ASGI messages (dicts) in and out: litestar's TypedDict unions do not fit a proxy that passes them on.
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
RawApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["MediaRouter", "media_routing_middleware"]

logger = logging.getLogger(__name__)

# What goes to the worker besides the signature: never `host`, lengths or hop-by-hop headers.
_NOT_FORWARDED = {b"host", b"content-length", b"connection", b"upgrade", b"transfer-encoding", b"keep-alive",
                  b"sec-websocket-key", b"sec-websocket-version", b"sec-websocket-extensions",
                  b"sec-websocket-protocol", b"x-forwarded-for", TIME_HEADER.encode(), SIGNATURE_HEADER.encode()}
_ANSWER_HEADERS = {"content-type", "content-language", "retry-after", "cache-control", WORKER_HEADER}
WORKER_GONE = 1012  # WebSocket "service restart": the page rejoins (and the call is placed anew)


class MediaRouter:
    """One per app process: the HTTP client to the workers and the placement of calls."""

    def __init__(self, settings: Settings, session_factory: SessionFactory) -> None:
        import aiohttp

        self.secret = settings.media_secret
        self.session_factory = session_factory
        # The offer waits for the worker's ICE gathering (a few seconds): generous, but never forever.
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60, sock_connect=3),
                                          auto_decompress=False)

    async def close(self) -> None:
        await self.http.close()

    async def place(self, scope: Scope, receive: Receive, send: Send) -> Placed:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(cast(Any, scope))
        visit_id = uuid.UUID(str(scope["path_params"]["visit_id"]))
        async with self.session_factory() as session:
            return await place_call(session, actor_of(connection), scope["user"], visit_id, now=scope["app"].state.ctx.now())

    def _headers(self, scope: Scope, method: str, target: str, body: bytes) -> dict[str, str]:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])
                   if k.lower() not in _NOT_FORWARDED}
        client = scope.get("client")
        if client:
            headers["x-forwarded-for"] = client[0]  # the worker's actor is the browser's address, not the app's
        return {**headers, **sign(self.secret, method, target, body)}

    async def forward_http(self, scope: Scope, receive: Receive, send: Send, url: str) -> None:
        import aiohttp

        body = await read_body(receive)
        method, target = scope["method"], _target(scope)
        try:
            async with self.http.request(method, url + target, data=body, allow_redirects=False,
                                         headers=self._headers(scope, method, target, body)) as answer:
                content = await answer.read()
                headers = [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()
                           if k.lower() in _ANSWER_HEADERS]
                status = answer.status
        except (aiohttp.ClientError, TimeoutError) as lost:
            logger.warning("media worker at %s did not answer %s %s: %r", url, method, target, lost)
            raise ServiceUnavailable("the call's media worker does not answer; try again in a moment",
                                     retry_after=2) from None
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(content)).encode())]})
        await send({"type": "http.response.body", "body": content})

    async def forward_socket(self, scope: Scope, receive: Receive, send: Send, url: str) -> None:
        import aiohttp

        target = _target(scope)
        ws_url = "ws" + url.removeprefix("http") + target
        try:
            upstream = await self.http.ws_connect(ws_url, headers=self._headers(scope, "WEBSOCKET", target, b""),
                                                  autoping=True)
        except aiohttp.WSServerHandshakeError as refused:  # the worker closed it before opening: not signed …
            logger.warning("media worker at %s refused the events socket: %s", url, refused.status)
            await send({"type": "websocket.close", "code": 4000 + refused.status})
            return
        except (aiohttp.ClientError, TimeoutError) as lost:
            logger.warning("media worker at %s did not open the events socket: %r", url, lost)
            await send({"type": "websocket.close", "code": 4503, "reason": "the call's media worker does not answer"})
            return
        if (await receive())["type"] != "websocket.connect":
            await upstream.close()
            return
        await send({"type": "websocket.accept"})
        await _relay(upstream, receive, send)

    async def fan_out(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The doctor's waiting list: every live worker's, merged, the longest waiting first."""
        import aiohttp

        async with self.session_factory() as session:
            workers = await live_workers(session, now=scope["app"].state.ctx.now())
        target = _target(scope)
        rows: list[dict[str, Any]] = []
        for worker in workers:
            try:
                async with self.http.get(worker.url + target, headers=self._headers(scope, "GET", target, b"")) as got:
                    if got.status != 200:
                        await _pass_on(got, send)  # a refusal (not a doctor …) is the same at every worker
                        return
                    rows.extend(await got.json())
            except (aiohttp.ClientError, TimeoutError):  # a dying worker: its calls are about to move
                logger.warning("media worker %s did not answer the waiting list", worker.worker_id)
        body = json.dumps(sorted(rows, key=lambda row: row["waiting_since"]), ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def media_routing_middleware(app: ASGIApp) -> ASGIApp:
    """Innermost: the marked handlers go to the media workers when the app has a `MediaRouter`."""
    inner = cast(RawApp, app)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        kind = handler.opt.get("media") if handler is not None else None
        router: MediaRouter | None = getattr(scope["app"].state, "media_router", None)
        if kind is None or router is None or scope.get("user") is None:
            await inner(scope, receive, send)
            return
        if scope["type"] == "websocket":
            try:
                await _guard(scope, handler)
                placed = await router.place(scope, receive, send)
            except HospitalError as refused:  # as the call's own socket: 4404 not yours, 4503 no worker …
                logger.warning("events socket of %s not placed: %s", scope["path"], refused.detail)
                await send({"type": "websocket.close", "code": 4000 + status_for(refused)})
                return
            await router.forward_socket(scope, receive, send, placed.url)
            return
        await _guard(scope, handler)  # the handler's own guards (the doctor's role, SUP-01's gate) hold here too
        if kind == "fan_out":
            await router.fan_out(scope, receive, send)
            return
        placed = await router.place(scope, receive, send)
        await router.forward_http(scope, receive, send, placed.url)

    return cast(ASGIApp, middleware)


async def _guard(scope: Scope, handler: Any) -> None:
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(cast(Any, scope))
    for guard in handler.resolve_guards():
        checked = guard(connection, handler)
        if inspect.isawaitable(checked):
            await checked


def _target(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return scope["path"] + (f"?{query}" if query else "")


async def _pass_on(answer: aiohttp.ClientResponse, send: Send) -> None:
    content = await answer.read()
    headers = [(k.lower().encode(), v.encode()) for k, v in answer.headers.items() if k.lower() in _ANSWER_HEADERS]
    await send({"type": "http.response.start", "status": answer.status,
                "headers": [*headers, (b"content-length", str(len(content)).encode())]})
    await send({"type": "http.response.body", "body": content})


async def _relay(upstream: aiohttp.ClientWebSocketResponse, receive: Receive, send: Send) -> None:
    """Both ways until one side ends; the page learns the worker's close code, or 1012 if the worker vanished."""
    import aiohttp


    async def from_page() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            if message["type"] == "websocket.receive" and message.get("text") is not None:
                await upstream.send_str(str(message["text"]))

    async def from_worker() -> int:
        async for frame in upstream:
            if frame.type == aiohttp.WSMsgType.TEXT:
                await send({"type": "websocket.send", "text": frame.data})
            elif frame.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED):
                break
        code = upstream.close_code
        return code if code is not None and (code in (1000, 1001) or 4000 <= code < 5000) else WORKER_GONE

    page, worker = asyncio.create_task(from_page()), asyncio.create_task(from_worker())
    try:
        await asyncio.wait({page, worker}, return_when=asyncio.FIRST_COMPLETED)
        if worker.done() and not worker.cancelled() and worker.exception() is None:
            with contextlib.suppress(Exception):  # the page may be gone too
                await send({"type": "websocket.close", "code": worker.result()})
    finally:
        for task in (page, worker):
            task.cancel()
        await asyncio.gather(page, worker, return_exceptions=True)
        await upstream.close()
