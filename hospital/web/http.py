"""HTTP plumbing shared by every area: request ids, authentication, the per-request session and actor."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders, State
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.audit import Actor
from hospital.core.errors import InvalidInput, MalformedRequest, NotAuthenticated, PayloadTooLarge
from hospital.identity.sessions import current_principal
from hospital.identity.tokens import Principal
from hospital.web.headers import CONTENT_SECURITY_POLICY, SCHEMA_POLICY, fixed_security_headers

__all__ = [
    "CALENDAR_YEARS",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "PUBLIC",
    "RAW_BODY",
    "actor_of",
    "auth_middleware",
    "check_calendar",
    "check_json_body",
    "check_query",
    "document_response",
    "json_body_guard",
    "provide_ctx",
    "provide_session",
    "replayed_receive",
    "request_id_middleware",
    "security_headers",
]

# Handlers marked with opt=PUBLIC need no token (health, log-in, registration, public disclosure).
PUBLIC = {"exclude_from_auth": True}
# Handlers marked with opt=RAW_BODY take a binary body they read and check themselves (the RFC 3161 TSA's DER
# TimeStampReq): the JSON body guard leaves it to them. The mark is the route's, never the request's content type
# (a JSON route decodes its body whatever the client declares).
RAW_BODY = {"raw_body": True}


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode()[:64]
        request_id = incoming if incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware


# A JSON body is a form a person filled in: nothing the hospital reads is larger or deeper than this. Uploads go as
# multipart (their own limits: HOSPITAL_MAX_UPLOAD, the app's request_max_body_size).
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
# The hospital's calendar: every date it reads (births, diagnoses, schedules, queue days) lies within these years.
# A date or date-time outside it (year 1, year 9999: one day more and Python's calendar overflows) is refused
# before any handler reckons with it.
CALENDAR_YEARS = range(1900, 2200)
_NOT_JSON = (b"multipart/form-data", b"application/x-www-form-urlencoded")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NUL_ESCAPE = re.compile(rb'(?<!\\)(?:\\\\)*\\u0000', re.IGNORECASE)
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")  # every byte but the brackets, to delete
_ISO_DATE = re.compile(r"(-?\d{4,})-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}.*)?", re.DOTALL)


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"a JSON body is at most {MAX_JSON_BYTES} bytes", max_bytes=MAX_JSON_BYTES)


def check_calendar(value: str, where: str) -> None:
    """Refuse a date or date-time (ISO 8601, the whole value) outside the hospital's calendar."""
    if len(value) <= 40 and (match := _ISO_DATE.fullmatch(value)) and int(match.group(1)) not in CALENDAR_YEARS:
        raise InvalidInput(f"{where}: {value!r} is outside the hospital's calendar "
                           f"({CALENDAR_YEARS.start}-{CALENDAR_YEARS.stop - 1})", field=where)


def _check_dates(value: Any, where: str) -> None:
    if isinstance(value, str):
        check_calendar(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_dates(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_dates(item, f"{where}[{index}]")


def check_json_body(body: bytes) -> None:
    """Refuse, as 4xx, a JSON body the decoder would choke on: over the size, not UTF-8, nested too deep, with a
    NUL character (which PostgreSQL's text refuses), or a date outside the calendar. A body that is not JSON at
    all is left to the decoder (400) and the handler's Struct (400 naming the field)."""
    if len(body) > MAX_JSON_BYTES:
        raise _too_large()
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest(f"the body is not UTF-8 (byte {exc.start})") from None
    if _NUL_ESCAPE.search(body):
        raise MalformedRequest("a JSON string may not contain the NUL character (\\u0000)")
    brackets = _JSON_STRING.sub(b'""', body).translate(None, _BRACKETS)
    depth = max(itertools.accumulate(1 if b in b"[{" else -1 for b in brackets), default=0)
    if depth > MAX_JSON_DEPTH:
        raise MalformedRequest(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        decoded = msgspec.json.decode(body) if body.strip() else None
    except (msgspec.DecodeError, msgspec.ValidationError):
        return
    _check_dates(decoded, "body")


def check_query(query_string: bytes) -> None:
    """Refuse a query parameter that is not UTF-8 or is a date outside the calendar (GET /api/doctor/queue?day=)."""
    try:
        pairs = parse_qsl(query_string.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise MalformedRequest("the query string is not UTF-8") from None
    for name, value in pairs:
        check_calendar(value, name)


def replayed_receive(body: bytes, receive: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    """The `receive` of a request whose body was read already: the whole body once, then what `receive` says next
    (a disconnect). The JSON guard and the media worker's signature check read the body before the app does."""
    replayed = False

    async def replay() -> Any:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def json_body_guard(app: ASGIApp) -> ASGIApp:
    """Check a request's query and its JSON body (read once, handed on unchanged) before any handler: the decoder
    and the services never see input that would raise anything but a validation error (no 500)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        check_query(scope.get("query_string", b""))
        headers = dict(scope.get("headers", []))
        handler = scope.get("route_handler")
        if (scope.get("method") in ("GET", "HEAD", "OPTIONS")
                or headers.get(b"content-type", b"").split(b";")[0].strip().lower() in _NOT_JSON
                or (handler is not None and handler.opt.get("raw_body"))):
            await app(scope, receive, send)
            return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > MAX_JSON_BYTES:
            raise _too_large()
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk: bytes = message.get("body", b"")  # type: ignore[assignment]
            size += len(chunk)
            if size > MAX_JSON_BYTES:
                raise _too_large()
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        check_json_body(body)
        await app(scope, replayed_receive(body, receive), send)

    return middleware


# What a browser may do with the hospital's pages (REC-03, SEC-01): only the hospital's own scripts, styles and
# connections; never framed (clickjacking a doctor's sign-off); no referrer leaving the site (visit ids in URLs).
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:]+\](:\d{1,5})?")


def security_headers(*, hsts: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """A `before_send` hook adding the security headers to every HTTP response (errors and 404s included); HSTS
    only when the hospital is reached over TLS (`Settings.behind_tls`), since a browser would refuse http after."""
    common = fixed_security_headers(hsts=hsts)

    async def add(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        policy = SCHEMA_POLICY if scope.get("path", "").startswith("/schema") else CONTENT_SECURITY_POLICY
        host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1")
        if policy is CONTENT_SECURITY_POLICY and _HOST.fullmatch(host):  # the call's WebSocket, to this host only
            policy = policy.replace("connect-src 'self'", f"connect-src 'self' wss://{host} ws://{host}")
        for name, value in [(b"content-security-policy", policy.encode()), *common]:
            if name.decode() not in headers:
                headers.add(name.decode(), value.decode())

    return add


class TokenAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not token and connection.scope["type"] == "websocket":
            token = connection.query_params.get("token", "")
        if not token:
            raise NotAuthenticated("log in first: send 'Authorization: Bearer <token>'")
        ctx: HospitalContext = connection.app.state.ctx
        principal = ctx.tokens.decode(token)
        # The session, not the token alone: open, this token its current one, the account active and unlocked,
        # and the role the account's (SEC-01).
        principal = await current_principal(connection.app.state.session_engine, principal, ctx.now())
        return AuthenticationResult(user=principal, auth=token)


auth_middleware = DefineMiddleware(
    TokenAuthentication, exclude=["^/health$", "^/ready$", "^/schema", "^/static/", "^/\\.well-known/"],
    exclude_from_auth_key="exclude_from_auth",
)


def provide_ctx(state: State) -> HospitalContext:
    ctx: HospitalContext = state.ctx
    return ctx


async def provide_session(state: State) -> AsyncIterator[AsyncSession]:
    async with state.session_factory() as session:
        yield session


def actor_of(request: Request[Any, Any, Any] | ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The audit actor for this request: the authenticated user, or anonymous."""
    principal = request.scope.get("user")
    client = request.client.host if request.client else ""
    request_id = request.scope.get("state", {}).get("request_id", "")
    if isinstance(principal, Principal):
        return Actor(principal.user_id, principal.role, request_id, client)
    return Actor(None, "anonymous", request_id, client)


def document_response(data: bytes, content_type: str, name: str) -> Response[bytes]:
    """A stored document (a PDF or an image) shown inline, never cached, never sniffed into another type."""
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(content_type, "bin")
    return Response(data, media_type=content_type, headers={
        "Content-Disposition": f'inline; filename="{name}.{extension}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})
