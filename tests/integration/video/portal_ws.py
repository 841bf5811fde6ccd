"""A WebSocket client for the litestar test client that runs the socket in the app's own event loop.

litestar's `AsyncTestClient` runs the app (lifespan, every request, so the media hub too) in a portal thread's
event loop. Its WebSocket test session spins on `sleep(0)` while it waits for the client, which takes a whole
core from the media peer; this one waits on an asyncio queue in the app's loop instead.
"""

from __future__ import annotations

import asyncio
import json
import queue
from types import TracebackType
from typing import Any

from litestar.testing import AsyncTestClient

__all__ = ["PortalWebSocket"]


class PortalWebSocket:
    """`with PortalWebSocket(client, path) as ws:`; `accepted`, `close_code`, `await ws.receive_json()`."""

    def __init__(self, client: AsyncTestClient[Any], path: str, query: str = "") -> None:
        self.client = client
        self.path = path
        self.query = query
        self.accepted = False
        self.close_code: int | None = None
        self._outgoing: queue.Queue[dict[str, Any]] = queue.Queue()

    def __enter__(self) -> PortalWebSocket:
        portal = self.client.blocking_portal
        self._incoming: asyncio.Queue[dict[str, Any]] = portal.call(asyncio.Queue)
        scope = {"type": "websocket", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "ws",
                 "server": ("testserver.local", 80), "client": ("127.0.0.1", 50000), "root_path": "",
                 "path": self.path, "raw_path": self.path.encode(), "query_string": self.query.encode(),
                 "headers": [(b"host", b"testserver.local")], "subprotocols": [], "extensions": {}}

        async def receive() -> dict[str, Any]:
            return await self._incoming.get()

        async def send(message: dict[str, Any]) -> None:
            self._outgoing.put(message)

        self._future = portal.start_task_soon(self.client.app, scope, receive, send)
        portal.call(self._incoming.put_nowait, {"type": "websocket.connect"})
        first = self._outgoing.get(timeout=10)
        if first["type"] == "websocket.accept":
            self.accepted = True
        else:
            self.close_code = first.get("code")
        return self

    async def receive_json(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next JSON message; AssertionError if the socket closed or nothing came in time."""
        try:
            message = await asyncio.to_thread(self._outgoing.get, True, timeout)
        except queue.Empty:
            raise AssertionError(f"no message on {self.path} within {timeout} s") from None
        if message["type"] == "websocket.close":
            self.close_code = message.get("code")
            raise AssertionError(f"the socket closed with {self.close_code}")
        return dict(json.loads(message["text"]))

    async def next_of(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        """Skip messages until one of `kind` arrives."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.receive_json(max(0.1, deadline - loop.time()))
            if message.get("kind") == kind:
                return message

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._future.done():
            self.client.blocking_portal.call(self._incoming.put_nowait, {"type": "websocket.disconnect", "code": 1000})
            self._future.result(timeout=10)
