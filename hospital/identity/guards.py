"""Guards: small named functions that say who may call a handler (litestar-fullstack's shape)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from hospital.core.errors import Forbidden, NotAuthenticated
from hospital.identity.models import Role
from hospital.identity.tokens import Principal

__all__ = ["principal_of", "requires_admin", "requires_clinician", "requires_doctor", "requires_patient",
           "requires_pharmacist", "requires_role"]

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthenticated("log in first")
    return user


def requires_role(*roles: Role) -> Guard:
    allowed = {r.value for r in roles}

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if principal_of(connection).role not in allowed:
            raise Forbidden(f"only {', '.join(sorted(allowed))} may do this")

    guard.__name__ = f"requires_{'_or_'.join(sorted(allowed))}"
    return guard


requires_patient = requires_role(Role.PATIENT)
requires_doctor = requires_role(Role.DOCTOR)
requires_pharmacist = requires_role(Role.PHARMACIST)
requires_admin = requires_role(Role.ADMIN)
requires_clinician = requires_role(Role.DOCTOR, Role.PHARMACIST, Role.NURSE)
