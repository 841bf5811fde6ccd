"""Map every refusal to an RFC 9457 problem-details response (`application/problem+json`).

One table maps each `HospitalError` subclass to its status; `test_every_error_class_has_a_status` fails when
a new subclass is added without one. Framework errors (validation, body too large, unknown route) get the
same shape, and nothing unexpected leaks as anything but a bare 500 problem.

The body speaks the reader's language (issue 14): `Accept-Language` picks zh-CN (the default) or English, the
answer says which in `Content-Language`. The title is the reason of the rule that refused (the registered rule's
own title, else its requirement's, else the error class's); the detail is the refusal's catalogue sentence
(`hospital.core.messages.say`) in that language, else in Chinese the rule's what-to-do sentence and in English
the sentence the code raised. `type` is `/problems/<rule ID>`, a public page explaining the rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPI, OpenAPIHeader, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Schema
from sqlalchemy import exc as sa_exc

from hospital.core import errors as e
from hospital.core.messages import Message, Text, error_text, negotiate, requirement_text, rule_text
from hospital.core.rule_registry import registered

__all__ = ["PROBLEM_JSON", "PROBLEM_SCHEMA", "RATE_LIMITED", "STATUS_BY_ERROR", "declared_refusals",
           "document_problems", "exception_handlers", "language_of_request", "problem_response", "refuses", "status_for",
           "status_of", "told"]

log = logging.getLogger("hospital.errors")

PROBLEM_JSON = "application/problem+json"

STATUS_BY_ERROR: dict[type[e.HospitalError], int] = {
    e.HospitalError: 400,
    e.RuleViolation: 422,
    e.AccessRefused: 403,
    e.LockedOut: 423,
    e.TooManyAttempts: 429,
    e.SignatureRequired: 428,
    e.ServiceStopped: 503,
    e.InvalidTransition: 409,
    e.Conflict: 409,
    e.NotFound: 404,
    e.Forbidden: 403,
    e.NotAuthenticated: 401,
    e.InvalidInput: 422,
    e.MalformedRequest: 400,
    e.PayloadTooLarge: 413,
    e.UnsupportedMediaType: 415,
    e.ServiceUnavailable: 503,
    e.ConnectorError: 502,
    e.IntegrityFailure: 500,
    e.ContractViolation: 500,
}


_Handler = TypeVar("_Handler")


def refuses(*errors: type[e.HospitalError]) -> Callable[[_Handler], _Handler]:
    """Declare the refusals a handler answers beyond those its route's shape implies (issue 17: every refusal
    status documented per route). hospital/web/refusals.py derives the common ones (401/403 when authenticated,
    404 for a path id, 409 for a write to one, 413/422 for a body, 428 for a device signature, 503 for a clinical
    write under SUP-01); name here what the use case raises besides, e.g. `@refuses(NotFound)` when the body
    names the object. Placed above or below the route decorator."""

    def mark(handler: _Handler) -> _Handler:
        fn = getattr(handler, "fn", handler)  # a litestar route handler keeps the function as `fn`
        fn.__dict__["refuses"] = (*fn.__dict__.get("refuses", ()), *errors)
        return handler

    return mark


def declared_refusals(fn: Callable[..., Any]) -> tuple[type[e.HospitalError], ...]:
    found: tuple[type[e.HospitalError], ...] = getattr(fn, "__dict__", {}).get("refuses", ())
    return found


def status_of(error: type[e.HospitalError]) -> int:
    for cls in error.__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def status_for(exc: e.HospitalError) -> int:
    return status_of(type(exc))


def problem_response(status: int, title: str, detail: str, request: Request[Any, Any, Any] | None = None,
                     **extra: Any) -> Response[dict[str, Any]]:
    rule_id = extra.get("rule_id")
    body: dict[str, Any] = {
        "type": f"/problems/{rule_id}" if rule_id else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        request_id = request.scope.get("state", {}).get("request_id")
        if request_id:
            body["request_id"] = request_id
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"Content-Language": language_of_request(request)}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def language_of_request(request: Request[Any, Any, Any] | None) -> str:
    return negotiate(request.headers.get("accept-language") if request is not None else None)


def _class_text(exc: e.HospitalError, language: str) -> Text:
    for cls in type(exc).__mro__:
        text = error_text(cls.__name__, language)
        if text is not None:
            return text
    raise KeyError(f"no text for {type(exc).__name__} in hospital/core/data/messages.json")


def told(exc: e.HospitalError, language: str) -> Text:
    """The title and detail of the refusal in `language` (see the module's docstring)."""
    base: Text | None = None
    rule_id = getattr(exc, "rule_id", None) or exc.extra.get("rule_id")
    if exc.raised_by is not None and (found := registered(exc.raised_by)) is not None:
        base = rule_text(found.qualname, found.title, language)
    if base is None and rule_id:
        base = requirement_text(rule_id, language)
    if base is None:
        base = _class_text(exc, language)
    if isinstance(exc.said, Message):
        said = exc.said.told(language)
        return Text(said.title or base.title, said.detail)
    return Text(base.title, exc.detail if language == "en" else base.detail)


def _framework_text(name: str, language: str, english_detail: str) -> Text:
    text = error_text(name, language)
    assert text is not None, name
    return Text(text.title, english_detail if language == "en" and english_detail else text.detail)


def _hospital_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, e.HospitalError)
    extra: dict[str, Any] = dict(exc.extra)
    rule_id = getattr(exc, "rule_id", None)
    if rule_id:
        extra["rule_id"] = rule_id
    text = told(exc, language_of_request(request))
    return problem_response(status_for(exc), text.title, text.detail, request, **extra)


def _validation_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, ValidationException)
    text = _framework_text("InvalidRequest", language_of_request(request), str(exc.detail))
    return problem_response(400, text.title, text.detail, request, errors=exc.extra or None)


def _http_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)
    language = language_of_request(request)
    known = error_text(f"HTTP{exc.status_code}", language)
    if known is None:  # a status the catalogue has no words for: its phrase, and the framework's detail
        text = Text(HTTPStatus(exc.status_code).phrase, str(exc.detail))
    else:
        text = _framework_text(f"HTTP{exc.status_code}", language, str(exc.detail))
    return problem_response(exc.status_code, text.title, text.detail, request,
                            **({"errors": exc.extra} if exc.extra else {}))


def _out_of_range(exc: BaseException) -> bool:
    """A value the request carried that no calendar or column can hold: year 9999 plus a day, year 1 in another
    zone (Python's OverflowError, also when raised while binding a statement), or a number or date PostgreSQL
    refuses (its DataError)."""
    if isinstance(exc, OverflowError | sa_exc.DataError):
        return True
    return isinstance(exc, sa_exc.StatementError) and isinstance(exc.orig, OverflowError)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    language = language_of_request(request)
    if _out_of_range(exc):
        text = _framework_text("OutOfRange", language, "")
        return problem_response(422, text.title, text.detail, request)
    if isinstance(exc, RecursionError):
        text = _framework_text("NestedTooDeeply", language, "")
        return problem_response(400, text.title, text.detail, request)
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    text = _framework_text("InternalError", language, "")
    return problem_response(500, text.title, text.detail, request)


exception_handlers: dict[type[Exception] | int, Any] = {
    e.HospitalError: _hospital_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}


PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT, required=["type", "title", "status", "detail"],
    properties={"type": Schema(type=OpenAPIType.STRING), "title": Schema(type=OpenAPIType.STRING),
                "status": Schema(type=OpenAPIType.INTEGER), "detail": Schema(type=OpenAPIType.STRING),
                "instance": Schema(type=OpenAPIType.STRING), "request_id": Schema(type=OpenAPIType.STRING),
                "rule_id": Schema(type=OpenAPIType.STRING),
                "errors": Schema(type=[OpenAPIType.OBJECT, OpenAPIType.ARRAY], additional_properties=Schema())},
    description="RFC 9457 problem details", additional_properties=Schema(),
)


# `responses=RATE_LIMITED` on a route under a rate limit (the log-in, SEC-01): /schema then documents its 429,
# completed by `document_problems` with the problem body and the Retry-After header.
RATE_LIMITED: dict[int, ResponseSpec] = {429: ResponseSpec(
    data_container=None, generate_examples=False, media_type=PROBLEM_JSON,
    description="Too many attempts (SEC-01 rate limit): wait the seconds in Retry-After")}

RETRY_AFTER = OpenAPIHeader(schema=Schema(type=OpenAPIType.INTEGER),
                            description="Seconds to wait before the next attempt")


def document_problems(openapi: OpenAPI) -> None:
    """Describe the refusals litestar documents for itself (a validation 400 as `application/json` with
    `status_code`, `detail`, `extra`) as what the handlers above really answer: `application/problem+json`
    bodies (issue 17: /schema describes the real API; schemathesis found every 400 in another media type);
    a 429 of a rate-limited route as the problem with its Retry-After header."""
    for path_item in (openapi.paths or {}).values():
        for operation in (getattr(path_item, m) for m in ("get", "put", "post", "delete", "patch")):
            for status, response in ((operation.responses or {}).items() if operation else ()):
                if status == "429" and isinstance(response, OpenAPIResponse):
                    response.content = {PROBLEM_JSON: OpenAPIMediaType(schema=PROBLEM_SCHEMA)}
                    response.headers = {"Retry-After": RETRY_AFTER}
                    continue
                content = getattr(response, "content", None) or {}
                framework = content.get("application/json")
                if status.startswith("4") and isinstance(framework, OpenAPIMediaType) and isinstance(
                        framework.schema, Schema) and "status_code" in (framework.schema.properties or {}):
                    response.content = {PROBLEM_JSON: OpenAPIMediaType(schema=PROBLEM_SCHEMA)}
