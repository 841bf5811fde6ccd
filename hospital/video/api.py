"""HTTP and WebSocket signalling for a visit's video call. Thin: parse, one call, a plain answer.

Only the visit's patient and doctor reach a call (anyone else: 404). SDP goes over HTTP (offer in, complete
answer out; the browser may trickle its candidates after); what happens during the call (joined, left,
paused, resumed, ended) is pushed over the events socket, authenticated with `?token=` (browsers cannot set
headers on a WebSocket). The call page itself (`/visits/{id}/call`) is one of the page router's pages
(`hospital/web/pages.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, WebSocket, get, post, websocket
from litestar.exceptions import WebSocketDisconnect, WebSocketException
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.contracts.video_views import CallStatusView, CallWaiting, IceServers, SdpAnswer, WaitingRoomView
from hospital.core.errors import HospitalError
from hospital.core.problems import status_for
from hospital.identity.guards import principal_of, requires_doctor
from hospital.video.calls import video_calls
from hospital.video.notices import Inbox
from hospital.web.http import actor_of

__all__ = ["VIDEO_ROUTES", "CallController", "WaitingController", "call_events"]

# With media workers (HOSPITAL_MEDIA_WORKERS), the handlers marked so run on the worker holding the call; the app
# proxies them there (hospital/video/routing.py). Unmarked ones (the ICE servers) need no media hub.
ON_WORKER = {"media": "call"}
ON_EVERY_WORKER = {"media": "fan_out"}

MAX_SDP = 64 * 1024  # a browser's offer is a few KB; anything near this is not an offer


class OfferBody(msgspec.Struct, forbid_unknown_fields=True):
    sdp: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SDP)]
    type: Annotated[str, msgspec.Meta(pattern="^offer$")] = "offer"


class CandidateBody(msgspec.Struct, forbid_unknown_fields=True):
    # RTCIceCandidate.candidate; "" or null: the browser has no more candidates.
    candidate: Annotated[str, msgspec.Meta(max_length=1024)] | None = None
    sdpMid: Annotated[str, msgspec.Meta(max_length=32)] | None = None  # the browser's own names
    sdpMLineIndex: Annotated[int, msgspec.Meta(ge=0, le=64)] | None = None


class CallController(Controller):
    path = "/api/visits/{visit_id:uuid}/call"
    tags = ["video"]

    @get("/", opt=ON_WORKER, summary="The visit's call: state, paused, who is connected (the visit's patient or doctor only)")
    async def status(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     visit_id: uuid.UUID) -> CallStatusView:
        return await video_calls(ctx).status(db_session, principal_of(request), visit_id)

    @get("/waiting-room", opt=ON_WORKER,
         summary="The waiting room: the visit's place in its schedule's queue (how many open visits come before it) "
                 "and whether the doctor is in the call, since when")
    async def waiting_room(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                           visit_id: uuid.UUID) -> WaitingRoomView:
        return await video_calls(ctx).waiting_room(db_session, principal_of(request), visit_id)

    @get("/ice-servers", summary="STUN, and TURN with time-limited credentials, for the browser's RTCPeerConnection")
    async def ice_servers(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                          visit_id: uuid.UUID) -> IceServers:
        servers = await video_calls(ctx).ice_servers(db_session, principal_of(request), visit_id)
        return IceServers(ice_servers=servers)

    @post("/offer", status_code=200, opt=ON_WORKER,
          summary="Join the call with an SDP offer; the answer carries the hospital's candidates. The doctor needs "
                  "a practice session (FACE-02); the doctor's join starts an accepted visit. Joining again "
                  "(a dropped network) replaces the previous connection.")
    async def offer(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                    visit_id: uuid.UUID, data: OfferBody) -> SdpAnswer:
        answer = await video_calls(ctx).join(db_session, actor_of(request), principal_of(request), visit_id, data.sdp)
        return SdpAnswer(type="answer", sdp=answer)

    @post("/candidates", status_code=204, opt=ON_WORKER, summary="An ICE candidate the browser found after its offer (trickle)")
    async def candidates(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                         visit_id: uuid.UUID, data: CandidateBody) -> None:
        await video_calls(ctx).add_candidate(db_session, principal_of(request), visit_id, data.candidate, data.sdpMid,
                                             data.sdpMLineIndex)

    @post("/leave", status_code=204, opt=ON_WORKER,
          summary="Hang up: the caller's connection closes and its recording is stored")
    async def leave(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                    visit_id: uuid.UUID) -> None:
        await video_calls(ctx).leave(db_session, principal_of(request), visit_id)

    @post("/resume", guards=[requires_doctor], status_code=200, opt=ON_WORKER,
          summary="Resume a call the face watch paused; needs a face verification younger than the resume window "
                  "(FACE-02, 2 minutes by default)")
    async def resume(self, request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext,
                     visit_id: uuid.UUID) -> CallStatusView:
        calls = video_calls(ctx)
        principal = principal_of(request)
        await calls.resume(db_session, actor_of(request), principal, visit_id)
        return await calls.status(db_session, principal, visit_id)


class WaitingController(Controller):
    path = "/api/doctor/call-waiting"
    tags = ["video"]

    @get("/", guards=[requires_doctor], opt=ON_EVERY_WORKER,
         summary="The doctor's visits whose patient waits in the call for them, with since when (longest first)")
    async def waiting(self, request: Request[Any, Any, Any], db_session: AsyncSession,
                      ctx: HospitalContext) -> list[CallWaiting]:
        return await video_calls(ctx).doctor_waiting(db_session, principal_of(request))


@websocket("/api/visits/{visit_id:uuid}/call/events", opt=ON_WORKER)
async def call_events(socket: WebSocket[Any, Any, Any], visit_id: uuid.UUID) -> None:
    """Notices of the call as JSON: first `state`, then `joined`, `left`, `paused`, `resumed`, `ended` …"""
    ctx: HospitalContext = socket.app.state.ctx
    calls = video_calls(ctx)
    try:
        async with socket.app.state.session_factory() as session:
            status = await calls.status(session, principal_of(socket), visit_id)
    except HospitalError as refused:  # closed before accepting: 4404 not yours, 4401 no token …
        raise WebSocketException(detail=refused.detail, code=4000 + status_for(refused)) from None
    await socket.accept()
    with calls.notices.subscribe(str(visit_id), status.role) as inbox:
        await socket.send_json({"kind": "state", **msgspec.structs.asdict(status)})
        await _relay(socket, inbox)


async def _relay(socket: WebSocket[Any, Any, Any], inbox: Inbox) -> None:
    """Send the inbox's notices until the page goes away or the hospital closes the call."""
    closed_by_page = asyncio.create_task(_drain(socket))
    try:
        while True:
            notice_ready = asyncio.create_task(inbox.queue.get())
            await asyncio.wait({notice_ready, closed_by_page}, return_when=asyncio.FIRST_COMPLETED)
            if not notice_ready.done():
                notice_ready.cancel()
                return
            notice = notice_ready.result()
            if notice is None:
                await socket.close(code=1001, reason="the hospital is closing the call")
                return
            await socket.send_json(notice)
    finally:
        closed_by_page.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closed_by_page


async def _drain(socket: WebSocket[Any, Any, Any]) -> None:
    """Read (and ignore) what the page sends, e.g. keep-alive pings, until it disconnects."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await socket.receive_data(mode="text")


VIDEO_ROUTES: list[ControllerRouterHandler] = [CallController, WaitingController, call_events]
