"""Listen first, build the app meanwhile: `/health` answers from the first instant of a start (issue 22: the demo
answered it after 15-40 s, all of it importing the areas and migrating before the port was open).

`hospital serve` and `hospital demo` hand uvicorn a `BootingApp`. It takes the port at once and, in a thread,
imports the app, applies the migrations and builds it (`build`); then it runs the app's own lifespan (the CA, the
face pool, the demo seed in the background …) and passes every request to it. Until then `/health` says the
process is up (200), `/ready` says it is not (503, "starting": not migrated, not seeded), and any other request
gets 503 with Retry-After. It imports the standard library only, so nothing slow comes before the port is open.
A build that fails (a migration, a setting) is logged and stops the server; the command then exits non-zero.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from hospital.web.headers import CONTENT_SECURITY_POLICY, fixed_security_headers

__all__ = ["BootingApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("hospital.boot")

WAIT_SECONDS = 2  # Retry-After of the answers given while the app is being built


class BootingApp:
    def __init__(self, build: Callable[[], ASGIApp], *, hsts: bool, on_failure: Callable[[], None]) -> None:
        self._build = build
        self._on_failure = on_failure
        self._headers = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                         *fixed_security_headers(hsts=hsts)]
        self.app: ASGIApp | None = None  # the built app, once its lifespan has started
        self.failed: BaseException | None = None
        self._booting: asyncio.Task[None] | None = None
        self._app_lifespan: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
        elif self.app is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})  # "try again later"
        else:
            await self._answer_while_starting(scope["path"], send)

    async def _answer_while_starting(self, path: str, send: Send) -> None:
        body: dict[str, Any]
        if path == "/health":
            status, media, body = 200, "application/json", {"status": "ok"}
        elif path == "/ready":
            status, media, body = 503, "application/json", {"status": "not ready", "checks": {"app": "starting"}}
        else:
            status, media = 503, "application/problem+json"
            body = {"type": "about:blank", "title": "Starting", "status": 503, "instance": path,
                    "detail": f"the hospital is starting; try again in {WAIT_SECONDS} s"}
        content = json.dumps(body).encode()
        headers = [(b"content-type", media.encode()), (b"content-length", str(len(content)).encode()),
                   *self._headers]
        if status == 503:
            headers.append((b"retry-after", str(WAIT_SECONDS).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._booting = asyncio.create_task(self._boot(scope))
                await send({"type": "lifespan.startup.complete"})  # uvicorn listens now
            elif message["type"] == "lifespan.shutdown":
                await self._stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _boot(self, scope: Scope) -> None:
        try:
            app = await asyncio.to_thread(self._build)

            async def run_lifespan() -> None:
                await app(dict(scope), self._to_app.get, self._from_app.put)

            self._app_lifespan = asyncio.create_task(run_lifespan())
            await self._to_app.put({"type": "lifespan.startup"})
            answer = await self._answer_of_app()
            if answer.get("type") != "lifespan.startup.complete":
                raise RuntimeError(f"the app's start failed: {answer.get('message', '')}")
            self.app = app
            log.info("the hospital has started")
        except Exception as exc:  # whatever stopped the start is logged and stops the server
            self.failed = exc
            log.exception("the hospital could not start", exc_info=exc)
            self._on_failure()

    async def _answer_of_app(self) -> Message:
        """The app's next lifespan message; if its lifespan ends without one, what it ended with."""
        assert self._app_lifespan is not None
        answer = asyncio.ensure_future(self._from_app.get())
        await asyncio.wait({answer, self._app_lifespan}, return_when=asyncio.FIRST_COMPLETED)
        if answer.done():
            return answer.result()
        answer.cancel()
        error = self._app_lifespan.exception()
        return {"type": "lifespan.ended", "message": repr(error) if error else "no answer"}

    async def _stop(self) -> None:
        if self._booting is not None and not self._booting.done():
            self._booting.cancel()  # the build thread itself runs on; the process is ending
        if self.app is not None and self._app_lifespan is not None and not self._app_lifespan.done():
            await self._to_app.put({"type": "lifespan.shutdown"})
            await self._answer_of_app()
