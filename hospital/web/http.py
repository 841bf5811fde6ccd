"""HTTP plumbing shared by every area: request ids, authentication, the per-request session and actor."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.audit import Actor
from hospital.core.errors import NotAuthenticated
from hospital.identity.tokens import Principal

__all__ = [
    "PUBLIC", "actor_of", "auth_middleware", "document_response", "provide_ctx", "provide_session", "request_id_middleware",
]

# Handlers marked with opt=PUBLIC need no token (health, log-in, registration, public disclosure).
PUBLIC = {"exclude_from_auth": True}


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
