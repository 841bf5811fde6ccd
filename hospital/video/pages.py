"""The minimal call page of a visit (`/visits/{id}/call`), for the patient and the doctor.

The page carries no patient data: its module, `frontend/static/js/call.js` (served by the frontend's static
router), reads the bearer token the log-in page keeps in sessionStorage and asks the API, which decides who
may join. The visit pages link here (`frontend/static/js/video.js`).
"""

from __future__ import annotations

import asyncio
import uuid

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler

from hospital.core.web import PUBLIC
from hospital.web.i18n import FRONTEND_DIR
from hospital.web.pages import SECURITY_HEADERS

__all__ = ["CALL_PAGE", "PAGE_ROUTES"]

CALL_PAGE = FRONTEND_DIR / "templates" / "call.html"


@get("/visits/{visit_id:uuid}/call", opt=PUBLIC, include_in_schema=False, name="video_call_page")
async def call_page(visit_id: uuid.UUID) -> Response[bytes]:
    html = await asyncio.to_thread(CALL_PAGE.read_bytes)
    return Response(html, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


PAGE_ROUTES: list[HTTPRouteHandler] = [call_page]
