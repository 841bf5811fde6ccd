"""The litestar application: routes of every area, problem-details errors, authentication, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

from litestar import Litestar
from litestar.config.response_cache import ResponseCacheConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, ControllerRouterHandler, Message, Receive, Scope, Send

from connectors.supervision.demo import DemoPlatform
from connectors.supervision.gate import PlatformGate
from connectors.supervision.operations import install_readiness_probe
from connectors.supervision.settings import load_connector_settings
from hospital import __version__
from hospital.biometrics.api import FaceVerificationController
from hospital.biometrics.pool import FacePool
from hospital.biometrics.settings import FaceSettings
from hospital.config import Settings, load_settings
from hospital.context import HospitalContext
from hospital.core.leases import runner_name
from hospital.core.problems import exception_handlers
from hospital.db import create_engine, is_sqlite, session_factory
from hospital.demo import DemoSeed
from hospital.health import health, ready
from hospital.identity.api import IdentityController
from hospital.institution.api import InstitutionController
from hospital.institution.reference import require_own_disclosure
from hospital.patients.api import PatientController
from hospital.prescriptions.api import PRESCRIPTION_ROUTES
from hospital.public.api import PUBLIC_ROUTES
from hospital.quality.api import QualityController
from hospital.security.api import SECURITY_ROUTES
from hospital.security.detection.jobs import close_security_scans, open_security_scans
from hospital.signing.api import (
    SignatureVerificationController,
    SigningAdminController,
    SigningDeviceController,
    TimeStampingController,
    WellKnownController,
)
from hospital.signing.service import start_signing
from hospital.staff.api import BiometricConsentController, StaffController
from hospital.video.api import VIDEO_ROUTES
from hospital.video.calls import close_video_calls, open_video_calls
from hospital.video.routing import MediaRouter, media_routing_middleware
from hospital.visits.api import VISIT_ROUTES
from hospital.web.admin_api import ConnectorStatusController
from hospital.web.http import (
    auth_middleware,
    json_body_guard,
    provide_ctx,
    provide_session,
    request_id_middleware,
    security_headers,
)
from hospital.web.pages import PAGE_ROUTES, static_router, template_config
from hospital.web.refusals import document_lazily
from hospital.wiring import wire, wired_context

__all__ = ["create_app"]

ROUTES: list[ControllerRouterHandler] = [
    health, ready, IdentityController, InstitutionController, *PUBLIC_ROUTES, PatientController, StaffController,
    BiometricConsentController, FaceVerificationController, QualityController, *VISIT_ROUTES, *VIDEO_ROUTES,
    *PRESCRIPTION_ROUTES, WellKnownController, SignatureVerificationController,
    SigningAdminController, SigningDeviceController, TimeStampingController,
    ConnectorStatusController, *SECURITY_ROUTES, *PAGE_ROUTES, static_router(),
]


def replica_header_middleware(app: ASGIApp) -> ASGIApp:
    """Every HTTP response names the replica that served it (`X-Hospital-Replica`: HOSPITAL_REPLICA, else the host
    name, and the process id): behind a proxy, an operator or a test sees where a request landed."""
    name = runner_name().encode()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def named(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-hospital-replica", name)]}
            await send(message)

        await app(scope, receive, named)

    return middleware


def face_settings(settings: Settings) -> FaceSettings:
    return FaceSettings(workers=settings.face_workers, max_upload_bytes=settings.max_upload_bytes)


def create_app(settings: Settings | None = None, ctx: HospitalContext | None = None, *,
               demo_platform: DemoPlatform | None = None, seed_demo: bool = False) -> Litestar:
    """Build the app. Migrations are not run here: `hospital serve` runs them first; tests build the schema.

    The app answers `/health` as soon as it listens: the face pool loads dlib in its workers meanwhile and, with
    `seed_demo`, the demo is seeded in the background; `/ready` reports both ("face_pool", "demo").
    `demo_platform`: the demo's in-process supervision simulator, delivered to while the app runs."""
    settings = settings or load_settings()
    settings.check()
    require_own_disclosure(settings)  # INS-03: production never publishes the demo's disclosure
    ctx = wire(ctx) if ctx is not None else wired_context(settings)  # every area's subscribers (hospital/wiring.py)
    if demo_platform is not None:
        ctx.connector_settings = demo_platform.settings
    connector = ctx.connector_settings or load_connector_settings()
    gate = PlatformGate(connector, production=ctx.settings.is_production)  # SUP-01

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings.resolved_database_url)
        app.state.engine = engine
        app.state.session_factory = session_factory(engine)
        # Every request's session check reads through this (SEC-01); on SQLite it must not take the write lock.
        session_engine = (create_engine(settings.resolved_database_url, immediate=False)
                          if is_sqlite(settings.resolved_database_url) else engine)
        app.state.session_engine = session_engine
        app.state.ctx = ctx
        install_readiness_probe(app.state, engine, connector)
        probes = app.state.readiness_probes = getattr(app.state, "readiness_probes", None) or {}
        if (unconnected := gate.readiness_probe()) is not None:
            probes["supervision_platform"] = unconnected
        own_pool = ctx.faces is None
        if own_pool:
            pool = ctx.faces = FacePool(face_settings(settings))
            pool.start_in_background()  # dlib loads in the workers (about 2 s) while the app already answers

            async def face_pool_probe() -> str:
                return "ok" if pool.warm else "starting"

            probes["face_pool"] = face_pool_probe
        await start_signing(app.state.session_factory, ctx)  # the hospital CA: loaded, or created on first start
        demo = DemoSeed(app.state.session_factory, ctx) if seed_demo else None
        if demo is not None:
            demo.start()
            probes["demo"] = demo.probe
        open_video_calls(ctx, app.state.session_factory)  # with media workers, only its ICE servers are used
        router = app.state.media_router = MediaRouter(settings, app.state.session_factory) \
            if settings.media_workers else None
        open_security_scans(ctx, app.state.session_factory, engine)  # SEC-02: one replica per interval (lease)
        try:
            async with demo_platform.running() if demo_platform is not None else nullcontext():
                yield
        finally:
            if demo is not None:
                await demo.stop()
            await close_security_scans(ctx)
            await close_video_calls(ctx)  # recordings are stored before the database and the face pool go
            if router is not None:
                await router.close()
            if own_pool and ctx.faces is not None:
                await ctx.faces.close()
                ctx.faces = None
            if session_engine is not engine:
                await session_engine.dispose()
            await engine.dispose()

    app = Litestar(
        route_handlers=[*ROUTES, demo_platform.route()] if demo_platform is not None else ROUTES,
        lifespan=[lifespan],
        dependencies={"db_session": Provide(provide_session), "ctx": Provide(provide_ctx, sync_to_thread=False)},
        middleware=[replica_header_middleware, request_id_middleware, auth_middleware, json_body_guard,
                    media_routing_middleware],
        guards=[gate.guard],
        before_send=[security_headers(hsts=settings.behind_tls)],
        exception_handlers=exception_handlers,
        template_config=template_config(),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Reference internet hospital", version=__version__, path="/schema",
            components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer",
                                                                             bearer_format="JWT")}),
            security=[{"bearer": []}],
        ),
        response_cache_config=ResponseCacheConfig(),
        debug=False,
    )
    document_lazily(app)  # problem+json and every refusal status per route, when /schema is first built (issue 17)
    return app
