"""What the administrator's connector page reads: the supervision connector's status (SUP-01, SUP-02)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.supervision.operations import connector_status
from connectors.supervision.settings import load_connector_settings
from hospital.context import HospitalContext
from hospital.contracts.operations import ConnectorStatusView
from hospital.identity.guards import requires_admin

__all__ = ["ConnectorStatusController"]


class ConnectorStatusController(Controller):
    path = "/api/admin/connector"
    tags = ["operations"]
    guards = [requires_admin]

    @get("/", summary="The supervision connector's outbox: counts by status, lag, the oldest waiting, dead letters")
    async def status(self, db_session: AsyncSession, ctx: HospitalContext) -> ConnectorStatusView:
        settings = ctx.connector_settings or load_connector_settings()
        return msgspec.convert((await connector_status(db_session, ctx.now(), settings)).as_dict(), ConnectorStatusView)
