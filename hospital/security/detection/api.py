"""Scan now, for administrators (SEC-02): the audit chain and the trail's leak patterns, at once."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, post
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.security_views import ScanResult
from hospital.identity.guards import requires_admin
from hospital.security.detection import service
from hospital.web.http import actor_of

__all__ = ["SecurityScanController"]


class SecurityScanController(Controller):
    path = "/api/admin/security"
    tags = ["security"]
    guards = [requires_admin]

    @post("/scan", status_code=200, summary="Scan now: the audit chain and the trail's leak patterns")
    async def scan(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                   ctx: HospitalContext) -> ScanResult:
        return msgspec.convert((await service.scan(db_session, ctx, actor_of(request))).as_dict(), ScanResult)
