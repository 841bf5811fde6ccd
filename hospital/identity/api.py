"""Log-in and the caller's own profile."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.people import Profile
from hospital.core.errors import LockedOut, NotAuthenticated
from hospital.core.problems import RATE_LIMITED, refuses
from hospital.identity import profile, service
from hospital.identity.guards import principal_of
from hospital.web.http import PUBLIC, actor_of

__all__ = ["IdentityController"]


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TokenResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int
    role: str
    face_verified_at: str | None = None


class IdentityController(Controller):
    path = "/api"
    tags = ["identity"]

    @refuses(NotAuthenticated, LockedOut)  # a wrong password; the account locked (SEC-01)
    @post("/auth/login", opt=PUBLIC, status_code=200, responses=RATE_LIMITED,
          summary="Log in with username (a patient's phone) and password; attempts per address are limited (429)")
    async def log_in(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     data: Annotated[LoginRequest, Body()]) -> TokenResponse:
        issued = await service.log_in(db_session, ctx, actor_of(request), data.username, data.password)
        return TokenResponse(issued.access_token, issued.token_type, issued.expires_in, issued.role)

    @post("/auth/renew", status_code=200, summary="A fresh token for a session still valid (within its maximum length)")
    async def renew(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext) -> TokenResponse:
        issued = await service.renew_token(db_session, ctx, principal_of(request))
        verified = issued.face_verified_at.isoformat() if issued.face_verified_at else None
        return TokenResponse(issued.access_token, issued.token_type, issued.expires_in, issued.role, verified)

    @post("/auth/logout", status_code=204, summary="End the caller's session: this token and its renewals are refused")
    async def log_out(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext) -> None:
        await service.log_out(db_session, ctx, actor_of(request), principal_of(request))

    @post("/auth/password", status_code=204,
          summary="Change the caller's password; every session of theirs ends (log in again)")
    async def change_password(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                              data: Annotated[PasswordChange, Body()]) -> None:
        await service.change_password(db_session, ctx, actor_of(request), principal_of(request),
                                      data.current_password, data.new_password)

    @get("/me", summary="The caller's own profile and role")
    async def me(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext) -> Profile:
        return msgspec.convert(await profile.own_profile(db_session, ctx, principal_of(request)), Profile)
