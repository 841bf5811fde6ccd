"""The start-up shim (hospital/web/boot.py): `/health` answers while the app is still being built (imported,
migrated), `/ready` and every other request say 503 "starting" with Retry-After until the app's own lifespan has
started; then every request is the app's. A build that fails stops the server. Driven by plain ASGI calls."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from hospital.web.boot import BootingApp, Message, Receive, Scope, Send


class Answers:
    """An ASGI app that answers 200 "built" to every request and records its lifespan."""

    def __init__(self) -> None:
        self.lifespan: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                self.lifespan.append(message["type"])
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"built"})


async def _get(app: BootingApp, path: str) -> tuple[int, dict[str, str], bytes]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": "http", "path": path, "method": "GET", "headers": []}, receive, send)
    headers = {k.decode(): v.decode() for k, v in sent[0].get("headers", [])}
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


class Lifespan:
    def __init__(self, app: BootingApp) -> None:
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.task = asyncio.create_task(app({"type": "lifespan", "state": {}}, self.inbox.get, self.outbox.put))

    async def say(self, kind: str) -> str:
        await self.inbox.put({"type": kind})
        return str((await asyncio.wait_for(self.outbox.get(), 30))["type"])


async def _until(condition: Any) -> None:
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def test_health_answers_while_the_app_is_built_and_the_rest_waits_until_it_has_started() -> None:
    built = threading.Event()
    inner = Answers()

    def build() -> Answers:
        built.wait(30)  # importing and migrating, as long as it takes
        return inner

    booting = BootingApp(build, hsts=True, on_failure=lambda: None)  # type: ignore[arg-type]
    lifespan = Lifespan(booting)
    assert await lifespan.say("lifespan.startup") == "lifespan.startup.complete"  # listening before the build

    status, headers, body = await _get(booting, "/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert headers["strict-transport-security"].startswith("max-age=") and "content-security-policy" in headers
    status, headers, body = await _get(booting, "/ready")
    assert (status, json.loads(body)["checks"], headers["retry-after"]) == (503, {"app": "starting"}, "2")
    status, headers, body = await _get(booting, "/api/me")
    assert (status, headers["content-type"], json.loads(body)["status"]) == (503, "application/problem+json", 503)

    built.set()
    await _until(lambda: booting.app is not None)
    assert inner.lifespan == ["lifespan.startup"]  # the app's own start ran before it took requests
    assert (await _get(booting, "/ready"))[2] == b"built"
    assert (await _get(booting, "/health"))[2] == b"built"

    assert await lifespan.say("lifespan.shutdown") == "lifespan.shutdown.complete"
    assert inner.lifespan == ["lifespan.startup", "lifespan.shutdown"]


async def test_a_build_that_fails_stops_the_server_and_is_kept_for_the_exit() -> None:
    stopped: list[bool] = []

    def build() -> Answers:
        raise RuntimeError("migration failed")

    booting = BootingApp(build, hsts=False, on_failure=lambda: stopped.append(True))  # type: ignore[arg-type]
    lifespan = Lifespan(booting)
    assert await lifespan.say("lifespan.startup") == "lifespan.startup.complete"
    await _until(lambda: stopped)
    assert isinstance(booting.failed, RuntimeError) and booting.app is None
    assert (await _get(booting, "/ready"))[0] == 503
    assert await lifespan.say("lifespan.shutdown") == "lifespan.shutdown.complete"
