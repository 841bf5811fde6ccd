"""The public disclosure over HTTP, no log-in needed (INS-03)."""

from __future__ import annotations

import msgspec
from litestar import get
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.institution_views import Disclosure
from hospital.public import service
from hospital.web.http import PUBLIC

__all__ = ["PUBLIC_ROUTES", "public_disclosure"]


@get("/api/institution/disclosure", opt=PUBLIC, tags=["institution"],
     summary="Public disclosure page data: everything INS-03 names (亮证经营)")
async def public_disclosure(db_session: AsyncSession, ctx: HospitalContext) -> Disclosure:
    return msgspec.convert(await service.disclosure(db_session, ctx), Disclosure)


PUBLIC_ROUTES = [public_disclosure]
