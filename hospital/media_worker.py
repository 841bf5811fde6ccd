"""`hospital media-worker`: a process that runs the media hub (aiortc rooms, recorders, the face watch) for the
calls placed on it, and serves their signalling to the app on its own port (issue 22, docs/operations.md).

It is the call part of the app and nothing else: the same handlers (`hospital.video.api`), the same use cases
writing the same database (audit, pause, recordings), its own face pool. In front of them, the app's signature
(`internal.signature_middleware`): browsers never reach a worker directly. It registers itself in `media_worker`
and renews its lease every heartbeat; at shutdown its lease ends at once so its calls move without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide

from hospital.biometrics.pool import FacePool
from hospital.biometrics.settings import FaceSettings
from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.core.problems import exception_handlers
from hospital.db import create_engine, is_sqlite, session_factory
from hospital.health import health, ready
from hospital.video.api import VIDEO_ROUTES
from hospital.video.calls import SessionFactory, close_video_calls, open_video_calls
from hospital.video.internal import signature_middleware
from hospital.video.placement import renew_lease, retire_worker
from hospital.web.http import auth_middleware, json_body_guard, provide_ctx, provide_session, request_id_middleware

__all__ = ["create_media_worker_app", "keep_lease"]

logger = logging.getLogger(__name__)


async def keep_lease(factory: SessionFactory, ctx: HospitalContext, worker_id: str, url: str) -> None:
    """Renew the worker's lease every heartbeat until cancelled; a failed renewal is retried at the next one
    (the lease is several heartbeats long)."""
    settings = ctx.settings
    while True:
        await asyncio.sleep(settings.media_heartbeat_s)
        try:
            async with factory() as session:
                await renew_lease(session, worker_id, url, settings.media_worker_capacity, now=ctx.now(),
                                  lease_s=settings.media_lease_s)
        except Exception:  # the database away for a moment: the lease outlives a few missed beats
            logger.exception("media worker %s could not renew its lease", worker_id)


def create_media_worker_app(settings: Settings, ctx: HospitalContext, *, worker_id: str, url: str) -> Litestar:
    settings.check()
    if len(settings.media_secret.encode()) < 32:
        from hospital.config import ConfigurationError

        raise ConfigurationError("hospital media-worker needs HOSPITAL_MEDIA_SECRET (at least 32 bytes)")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings.resolved_database_url)
        app.state.engine = engine
        factory = app.state.session_factory = session_factory(engine)
        session_engine = (create_engine(settings.resolved_database_url, immediate=False)
                          if is_sqlite(settings.resolved_database_url) else engine)
        app.state.session_engine = session_engine
        app.state.ctx = ctx
        pool = ctx.faces = FacePool(FaceSettings(workers=settings.face_workers,
                                                 max_upload_bytes=settings.max_upload_bytes))
        pool.start_in_background()

        async def face_pool_probe() -> str:
            return "ok" if pool.warm else "starting"

        app.state.readiness_probes = {"face_pool": face_pool_probe}
        open_video_calls(ctx, factory)
        async with factory() as session:  # placeable from now on
            await renew_lease(session, worker_id, url, settings.media_worker_capacity, now=ctx.now(),
                              lease_s=settings.media_lease_s)
        heartbeat = asyncio.create_task(keep_lease(factory, ctx, worker_id, url), name="media-lease")
        try:
            yield
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            with contextlib.suppress(Exception):
                async with factory() as session:
                    await retire_worker(session, worker_id, now=ctx.now())
            await close_video_calls(ctx)  # recordings are stored before the database and the face pool go
            await pool.close()
            ctx.faces = None
            if session_engine is not engine:
                await session_engine.dispose()
            await engine.dispose()

    return Litestar(
        route_handlers=[health, ready, *VIDEO_ROUTES],
        lifespan=[lifespan],
        dependencies={"db_session": Provide(provide_session), "ctx": Provide(provide_ctx, sync_to_thread=False)},
        middleware=[signature_middleware(settings.media_secret, worker_id), request_id_middleware, auth_middleware,
                    json_body_guard],
        exception_handlers=exception_handlers,
        openapi_config=None,
        debug=False,
    )
