"""Liveness and readiness probes."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy import text

from hospital.contracts.operations import Health, Readiness
from hospital.db import current_revision, head_revision
from hospital.web.http import PUBLIC

__all__ = ["health", "ready"]


@get("/health", opt=PUBLIC, tags=["operations"], summary="The process is up")
async def health() -> Health:
    return Health(status="ok")


@get("/ready", opt=PUBLIC, tags=["operations"], summary="The database is reachable and migrations are current")
async def ready(state: State) -> Response[Readiness]:
    checks: dict[str, str] = {}
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        current, head = await current_revision(state.engine), head_revision()
        checks["migrations"] = "ok" if current == head else f"at {current}, head is {head}"
    except Exception as exc:  # readiness reports any failure rather than raising
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
    for name, probe in getattr(state, "readiness_probes", {}).items():
        checks[name] = await probe()
    ok = all(v == "ok" for v in checks.values())
    return Response(Readiness(status="ready" if ok else "not ready", checks=checks), status_code=200 if ok else 503)
