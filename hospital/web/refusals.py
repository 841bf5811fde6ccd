"""Every refusal status each route can answer, written into its OpenAPI operation from the code (issue 17: /schema
describes the real API, refusals included).

Most statuses follow from what the route is, read off its handler and the request plumbing that runs before it:

    400  every route: a query or body no decoder reads, a parameter of the wrong type (hospital.web.http)
    401  a route that needs a token (not PUBLIC, not excluded by the auth middleware): no valid session (SEC-01)
    403  the same routes: a role guard (`requires_doctor` …), or a rule about the actor (a suspended clinician, no
         fresh face verification, FACE-02); documented on every authenticated route, with the guards named
    404  a path naming an object: no such object, or none the caller may see (SEC-01)
    409  a write to a path naming an object: its state machine refuses the move, or it changed meanwhile
    413  a route taking a body: over MAX_JSON_BYTES, or an upload over its limit
    415  a multipart upload or a raw body (the RFC 3161 TSA's DER): not a type the route reads
    422  a route taking a body or query parameters (a value no rule or calendar admits), and every authenticated
         write (a rule refuses it, naming its requirement ID)
    428  a body carrying a device signature (RX-05: 428 with the payload to sign, then the JWS)
    503  a clinical write (SUP-01: the supervision platform unreached; INS-01/QA-02: the service stopped)

A handler names what its use case raises besides with `@refuses(...)` (hospital.core.problems), e.g. a 404 for an
object named in the body. tests/integration/test_schema_fuzz.py fails on any status an operation answers that
its schema does not list; docs/api-contract.md says which statuses are documented defensively.
"""

from __future__ import annotations

import re
import types
import typing
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import OpenAPI, OpenAPIMediaType, OpenAPIResponse, Operation
from litestar.routes import HTTPRoute

from connectors.supervision.gate import is_clinical_write
from hospital.core.problems import PROBLEM_JSON, PROBLEM_SCHEMA, declared_refusals, document_problems, status_of
from hospital.signing.api import DeviceSignatureBody
from hospital.web.http import auth_middleware

__all__ = ["DocumentedOpenAPIPlugin", "document_lazily", "document_refusals", "refusals_of"]

READS = frozenset({"GET", "HEAD", "OPTIONS"})
REASONS: dict[int, str] = {
    400: "Malformed request: a query or body no decoder reads, or a parameter of the wrong type",
    401: "Not authenticated: no token, or a session that ended (logout, lock, suspension, renewal; SEC-01)",
    403: "Forbidden: the caller's role may not do this, or a rule about the actor refuses (FACE-02, SEC-01)",
    404: "Not found: no such object, or not one the caller may see (SEC-01)",
    409: "Conflict: not allowed in the object's current state, or it changed meanwhile",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Refused by a rule (`rule_id` names the requirement), or a value outside what the hospital admits",
    423: "Locked after repeated failures (SEC-01, FACE-04)",
    428: "Sign on your device (RX-05): the body carries the payload to sign; resend with the JWS",
    502: "A foreign system failed",
    503: "Service unavailable: the supervision platform unreached (SUP-01), or the service stopped (INS-01, QA-02)",
}
_EXCLUDED = [re.compile(pattern) for pattern in auth_middleware.kwargs.get("exclude", [])]


def _carries_signature(annotation: Any, seen: set[Any] | None = None) -> bool:
    """Does a body of this type carry a DeviceSignatureBody anywhere (RX-05)?"""
    seen = set() if seen is None else seen
    if annotation is DeviceSignatureBody:
        return True
    if annotation in seen:
        return False
    seen.add(annotation)
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        hints = typing.get_type_hints(annotation, include_extras=True)
        return any(_carries_signature(hint, seen) for hint in hints.values())
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _carries_signature(typing.get_args(annotation)[0], seen)
    if origin in (typing.Union, types.UnionType, list, tuple):
        return any(_carries_signature(arg, seen) for arg in typing.get_args(annotation))
    return False


def _authenticated(handler: HTTPRouteHandler, path: str) -> bool:
    return not handler.opt.get("exclude_from_auth") and not any(p.search(path) for p in _EXCLUDED)


def refusals_of(handler: HTTPRouteHandler, method: str, path: str, operation: Operation) -> dict[int, str]:
    """The refusal statuses `handler` can answer on `method path`, each with why (module docstring)."""
    found: dict[int, list[str]] = {400: []}
    body = "data" in handler.parsed_fn_signature.parameters
    media = set(getattr(operation.request_body, "content", None) or ())
    query = any(getattr(p, "param_in", None) == "query" for p in operation.parameters or ())
    write = method not in READS
    if _authenticated(handler, path):
        found[401] = []
        names = {getattr(getattr(g, "func", g), "__name__", "") for g in handler.resolve_guards()}
        guards = sorted(name for name in names if name.startswith("requires_"))
        found[403] = [f"guards: {', '.join(guards)}"] if guards else []
    if "{" in path:
        found[404] = []
        if write:
            found[409] = []
    if body:
        found[413] = []
    if "multipart/form-data" in media or handler.opt.get("raw_body"):
        found[415] = []
    if body or query or (write and 401 in found):
        found[422] = []
    if body and _carries_signature(handler.parsed_fn_signature.parameters["data"].annotation):
        found[428] = []
    if write and is_clinical_write(method, path):
        found[503] = []
    for error in declared_refusals(handler.fn):
        found.setdefault(status_of(error), []).append(error.__name__)
    return {status: "; ".join([REASONS.get(status, HTTPStatus(status).phrase), *notes])
            for status, notes in sorted(found.items())}


def document_refusals(app: Litestar) -> None:
    """Write each operation's refusals (`refusals_of`) as problem+json responses, and mark the operations that
    need no token as such (`security: []`)."""
    openapi = app.openapi_schema
    paths = openapi.paths or {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in paths:
            continue
        item = paths[route.path_format]
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if not isinstance(operation, Operation):
                    continue
                responses = operation.responses = dict(operation.responses or {})
                for status, why in refusals_of(handler, method, route.path_format, operation).items():
                    responses[str(status)] = OpenAPIResponse(
                        description=why, content={PROBLEM_JSON: OpenAPIMediaType(schema=PROBLEM_SCHEMA)})
                if not _authenticated(handler, route.path_format):
                    operation.security = []


class DocumentedOpenAPIPlugin(OpenAPIPlugin):
    """litestar's OpenAPI plugin, writing the problem+json refusals into the schema when it is first built (the
    `/schema` request, or a test reading `app.openapi_schema`) rather than at every `create_app`: building the
    schema costs most of a second, and the test suite creates an app per test."""

    __slots__ = ()

    def provide_openapi(self) -> OpenAPI:
        if self._openapi is not None:
            return self._openapi
        openapi = super().provide_openapi()
        document_problems(openapi)
        document_refusals(self.app)  # reads app.openapi_schema: the one just built, now cached
        return openapi


def document_lazily(app: Litestar) -> None:
    """Make `app`'s OpenAPI plugin a `DocumentedOpenAPIPlugin` (same slots, so the instance keeps its state)."""
    app.plugins.get(OpenAPIPlugin).__class__ = DocumentedOpenAPIPlugin
