"""The minimal call page of a visit (`/visits/{id}/call`) and its ES module, for the patient and the doctor.

The page carries no patient data: `frontend/static/js/call.js` reads the bearer token the log-in page keeps in
sessionStorage and asks the API, which decides who may join. The frontend's static router serves the same
file at the same path once it is merged; this handler keeps the page working without it.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler

from hospital.core.web import PUBLIC

__all__ = ["CALL_PAGE", "CALL_SCRIPT", "PAGE_ROUTES"]

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
CALL_PAGE = FRONTEND / "templates" / "call.html"
CALL_SCRIPT = FRONTEND / "static" / "js" / "call.js"

# Scripts from this origin only, media from the camera, signalling back to this origin.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                               "media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; "
                               "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
    "Cache-Control": "no-store",
}


@get("/visits/{visit_id:uuid}/call", opt=PUBLIC, include_in_schema=False, name="video_call_page")
async def call_page(visit_id: uuid.UUID) -> Response[bytes]:
    html = await asyncio.to_thread(CALL_PAGE.read_bytes)
    return Response(html, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@get("/static/js/call.js", opt=PUBLIC, include_in_schema=False, name="video_call_script")
async def call_script() -> Response[bytes]:
    script = await asyncio.to_thread(CALL_SCRIPT.read_bytes)
    return Response(script, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"})


PAGE_ROUTES: list[HTTPRouteHandler] = [call_page, call_script]
