"""The simulator on HTTP: the protocol at `POST /openapi/api` (and `/openapi/api/uploadFile`), and admin
endpoints under `/sim/` that are no part of the protocol:

    GET    /sim/records              every stored version of every record
    GET    /sim/records/{method}     the same for one method
    GET    /sim/warnings             the risk warnings raised so far
    GET    /sim/requests             every protocol request with the answer given (and the fault, if any)
    GET    /sim/files                files received by uploadFile (without their content)
    POST   /sim/reset                forget everything (records, warnings, nonces, files, log, fault)
    GET    /sim/report               per unit: methods and fields exercised, refusal paths met, checks fired,
                                     what is missing before the platform's acceptance (report.py)
    GET    /sim/methods              every method with its required and optional fields
    GET    /sim/faults               the active fault, or null
    POST   /sim/faults               {"kind": "http500|busy|stall|slow|down", "count": N, "seconds": T, "delay": S}
    DELETE /sim/faults               clear the fault
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response, delete, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody

from connectors.supervision.gateway.envelope import API_PATH, UPLOAD_PATH
from connectors.supervision.simulator.config import SimulatorConfig
from connectors.supervision.simulator.platform import Platform, Reply
from connectors.supervision.simulator.report import report_handlers
from hospital.core.errors import InvalidInput

__all__ = ["create_simulator_app"]


def _response(reply: Reply) -> Response[Any]:
    media_type = "application/json" if isinstance(reply.body, dict) else "text/plain"
    return Response(content=reply.body, status_code=reply.status, media_type=media_type)


def _invalid_input(_: Request[Any, Any, Any], exc: InvalidInput) -> Response[Any]:
    return Response(content={"error": exc.title, "detail": exc.detail}, status_code=400)


def _optional_number(data: dict[str, Any], name: str, kind: type[int | float]) -> Any:
    value = data.get(name)
    if value is None:
        return None
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be a number") from exc


def _protocol_handlers(platform: Platform) -> list[HTTPRouteHandler]:
    @post([API_PATH, UPLOAD_PATH], status_code=200, include_in_schema=False)
    async def gateway(request: Request[Any, Any, Any]) -> Response[Any]:
        client = request.client.host if request.client else ""
        reply = await platform.receive(request.url.path, dict(request.headers), await request.body(), client)
        return _response(reply)

    return [gateway]


def _admin_handlers(platform: Platform) -> list[HTTPRouteHandler]:
    store = platform.store

    @get("/sim/records", sync_to_thread=False)
    def records() -> list[dict[str, Any]]:
        return store.entries()

    @get("/sim/records/{method:str}", sync_to_thread=False)
    def records_of(method: FromPath[str]) -> list[dict[str, Any]]:
        return store.entries(method)

    @get("/sim/warnings", sync_to_thread=False)
    def warnings() -> list[dict[str, Any]]:
        return store.warnings()

    @get("/sim/requests", sync_to_thread=False)
    def requests() -> list[dict[str, Any]]:
        return store.requests()

    @get("/sim/files", sync_to_thread=False)
    def files() -> list[dict[str, Any]]:
        return store.files()

    @post("/sim/reset", status_code=200, sync_to_thread=False)
    def reset() -> dict[str, Any]:
        platform.reset()
        return {"reset": True}

    @get("/sim/faults", sync_to_thread=False)
    def fault() -> dict[str, Any]:
        return {"fault": platform.faults.describe()}

    @post("/sim/faults", status_code=200, sync_to_thread=False)
    def set_fault(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        platform.faults.set(
            str(data.get("kind", "")),
            count=_optional_number(data, "count", int),
            seconds=_optional_number(data, "seconds", float),
            delay=_optional_number(data, "delay", float) if data.get("delay") is not None else 30.0,
        )
        return {"fault": platform.faults.describe()}

    @delete("/sim/faults", sync_to_thread=False)
    def clear_fault() -> None:
        platform.faults.clear()

    return [records, records_of, warnings, requests, files, reset, fault, set_fault, clear_fault]


def create_simulator_app(config: SimulatorConfig) -> Litestar:
    """A litestar app simulating the supervision platform for the unit in `config`."""
    platform = Platform(config)
    app = Litestar(
        route_handlers=[*_protocol_handlers(platform), *_admin_handlers(platform), *report_handlers(platform.coverage)],
        exception_handlers={InvalidInput: _invalid_input},
        on_shutdown=[platform.store.close],
    )
    app.state.platform = platform
    return app
