"""`VideoCalls`: the app's one media hub, wired to the database, the audit trail and the call pages.

Built in the app's lifespan (`open_video_calls`), closed at shutdown (`close_video_calls`), reached through
`video_calls(ctx)`. The hub's callbacks run outside any request: each opens its own session from the app's
session factory and calls one use case of `service` (DESIGN conventions 2 and 10).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.config import ConfigurationError, Settings
from hospital.context import HospitalContext
from hospital.contracts.video_views import CallStatusView, CallWaiting, IceServer, WaitingRoomView
from hospital.core.audit import Actor
from hospital.core.errors import HospitalError, InvalidTransition, NotFound
from hospital.identity.tokens import Principal
from hospital.video import service
from hospital.video.checker import checker_for
from hospital.video.contracts import Role, VideoSettings
from hospital.video.hub import MediaHub
from hospital.video.ice import IceSettings, browser_ice_servers, hospital_rtc_configuration
from hospital.video.notices import CallNotices
from hospital.video.rules import CALL_STATES
from hospital.visits.encounter.service.lifecycle import start_visit

__all__ = ["VideoCalls", "close_video_calls", "ice_settings", "open_video_calls", "video_calls"]

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], AsyncSession]


def ice_settings(settings: Settings) -> IceSettings:
    try:
        return IceSettings(stun_urls=settings.stun_urls, turn_urls=settings.turn_urls,
                           turn_secret=settings.turn_secret or None)
    except ValueError as exc:
        raise ConfigurationError(f"HOSPITAL_STUN_URLS / HOSPITAL_TURN_URLS / HOSPITAL_TURN_SECRET: {exc}") from exc


def video_settings(settings: Settings) -> VideoSettings:
    if settings.video_sample_interval_s <= 0 or settings.video_grace_s < 0:
        raise ConfigurationError("HOSPITAL_VIDEO_SAMPLE_INTERVAL must be positive and HOSPITAL_VIDEO_GRACE not negative")
    folder = Path(settings.video_recording_dir or settings.data_dir / "recordings-in-progress")
    return VideoSettings(sample_interval_s=settings.video_sample_interval_s, grace_s=settings.video_grace_s,
                         recording_dir=folder)


class VideoCalls:
    """The media hub plus what it needs from the hospital: sessions, actors, the pages' notices."""

    def __init__(self, ctx: HospitalContext, session_factory: SessionFactory) -> None:
        self.ctx = ctx
        self.session_factory = session_factory
        self.ice = ice_settings(ctx.settings)
        self.notices = CallNotices()
        self.hub = MediaHub(on_event=self._on_event, store_recording=self._store_recording,
                            settings=video_settings(ctx.settings),
                            rtc_configuration=lambda: hospital_rtc_configuration(self.ice))
        self._actors: dict[tuple[str, str], Actor] = {}  # who joined, for the audit of the hub's events
        self._doctors: dict[str, uuid.UUID] = {}
        self._checker_failing: set[str] = set()
        # The waiting room, in this process: since when a visit's patient waits in the call without the doctor,
        # and since when the doctor is in it.
        self._waiting_since: dict[str, datetime] = {}
        self._doctor_since: dict[str, datetime] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    # -- what the endpoints call -------------------------------------------------------------------

    async def join(self, session: AsyncSession, actor: Actor, principal: Principal, visit_id: uuid.UUID,
                   offer_sdp: str) -> str:
        """Check the caller, connect their browser, start an accepted visit on the doctor's join; the answer."""
        ticket = await service.prepare_join(session, self.ctx, principal, visit_id)
        key = str(visit_id)
        self._actors[(key, ticket.role)] = actor
        if ticket.role == "doctor":
            self._doctors[key] = principal.user_id
        check = checker_for(self.ctx, ticket.template) if ticket.template is not None else None
        try:
            answer = await self.hub.join(key, ticket.role, offer_sdp, check_face=check, audio_only=ticket.audio_only)
        except HospitalError:  # an unusable offer: a room opened for it alone is not kept
            await self._close_if_idle(key)
            raise
        if ticket.starts_visit:
            try:
                await start_visit(session, self.ctx, actor, principal, visit_id)
            except HospitalError:  # the visit moved on meanwhile (terminated, cancelled): no call after all
                await self.hub.leave(key, ticket.role)
                raise
        if ticket.paused and not self.hub.room(key).paused:
            # Paused before this process held the room (a restart): still paused until the doctor re-verifies.
            await self.hub.room(key).pause("face_mismatch", {"restored": True})
        return answer

    async def add_candidate(self, session: AsyncSession, principal: Principal, visit_id: uuid.UUID,
                            candidate: str | None, sdp_mid: str | None, sdp_mline_index: int | None) -> None:
        status = await service.call_status(session, principal, visit_id)
        await self.hub.add_ice_candidate(str(visit_id), status["role"], candidate, sdp_mid=sdp_mid,
                                         sdp_mline_index=sdp_mline_index)

    async def leave(self, session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> None:
        status = await service.call_status(session, principal, visit_id)
        await self.hub.leave(str(visit_id), status["role"])

    async def resume(self, session: AsyncSession, actor: Actor, principal: Principal, visit_id: uuid.UUID) -> None:
        """The doctor re-verified: clear the pause in the database, then let the media through again."""
        await service.resume_call(session, self.ctx, actor, principal, visit_id)
        key = str(visit_id)
        try:
            self.hub.resume(key)  # the hub's `resumed` event tells both pages
        except (NotFound, InvalidTransition):  # no live room (or not paused in it): tell the pages here
            self.notices.publish(key, {"kind": "resumed", "after": None})

    async def status(self, session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> CallStatusView:
        status = await service.call_status(session, principal, visit_id)
        try:
            room = self.hub.room(str(visit_id))
        except NotFound:
            return CallStatusView(**status, connected=[], live_paused=False)
        return CallStatusView(**status, connected=sorted(room.participants), live_paused=room.paused)

    async def waiting_room(self, session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> WaitingRoomView:
        """The visit's place in its queue, and whether (since when) the doctor is in the call."""
        room = await service.waiting_room(session, principal, visit_id)
        key = str(visit_id)
        try:
            connected = sorted(self.hub.room(key).participants)
        except NotFound:
            connected = []
        doctor_since, waiting_since = self._doctor_since.get(key), self._waiting_since.get(key)
        return WaitingRoomView(
            **room, connected=connected, doctor_in_call="doctor" in connected,
            doctor_joined_at=doctor_since.isoformat() if doctor_since and "doctor" in connected else None,
            patient_waiting_since=waiting_since.isoformat() if waiting_since else None)

    async def doctor_waiting(self, session: AsyncSession, principal: Principal) -> list[CallWaiting]:
        """The doctor's visits whose patient waits in the call for them, the longest waiting first."""
        waiting = dict(self._waiting_since)
        own = await service.doctor_visits_open(session, principal, [uuid.UUID(v) for v in waiting])
        now = self.ctx.now()
        rows = [CallWaiting(visit_id=str(vid), queue_number=number, waiting_since=waiting[str(vid)].isoformat(),
                            waited_s=round((now - waiting[str(vid)]).total_seconds(), 1)) for vid, number in own.items()]
        return sorted(rows, key=lambda row: row.waiting_since)

    def _track_presence(self, visit_id: str, kind: str, role: str) -> None:
        try:
            connected = set(self.hub.room(visit_id).participants)
        except NotFound:
            connected = set()
        if kind == "joined" and role == "doctor":
            self._doctor_since.setdefault(visit_id, self.ctx.now())
            self._waiting_since.pop(visit_id, None)
        elif kind == "joined":
            if "doctor" not in connected:
                self._waiting_since.setdefault(visit_id, self.ctx.now())
        elif role == "doctor":  # left
            self._doctor_since.pop(visit_id, None)
            if "patient" in connected:
                self._waiting_since.setdefault(visit_id, self.ctx.now())  # the patient waits again
        else:
            self._waiting_since.pop(visit_id, None)

    async def ice_servers(self, session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> list[IceServer]:
        """STUN, and TURN with credentials for this user (TURN REST API); the name coturn logs is opaque."""
        await service.call_status(session, principal, visit_id)
        opaque = self.ctx.cipher.keyed_hash(str(principal.user_id), context="turn.user")[:24]
        return msgspec.convert(browser_ice_servers(self.ice, opaque), list[IceServer])

    async def end_call(self, visit_id: str) -> None:
        """The visit ended: close the room (recordings handed over) and tell the pages."""
        await self.hub.close_visit(visit_id)
        self._waiting_since.pop(visit_id, None)
        self._doctor_since.pop(visit_id, None)
        self.notices.publish(visit_id, {"kind": "ended"})

    async def _close_if_idle(self, visit_id: str) -> None:
        try:
            idle = self.hub.room(visit_id).is_idle
        except NotFound:
            return
        if idle:
            await self.hub.close_visit(visit_id)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.hub.close_all()
        tasks = list(self._tasks)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.notices.close_all()

    # -- the hub's callbacks -----------------------------------------------------------------------

    async def _on_event(self, visit_id: str, kind: str, data: dict[str, Any]) -> None:
        vid = uuid.UUID(visit_id)
        if kind in ("joined", "left"):
            role = str(data.get("role"))
            self._track_presence(visit_id, kind, role)
            actor = self._actors.get((visit_id, role)) or Actor.system("media-peer")
            try:
                async with self.session_factory() as session:
                    await service.record_call_event(session, actor, vid, f"video.{kind}", data)
            finally:  # the pages are told even if the database is unavailable for a moment
                self.notices.publish(visit_id, {"kind": kind, **data})
        elif kind == "face_check":
            await self._face_check(visit_id, vid, data)
        elif kind == "paused":
            try:
                async with self.session_factory() as session:
                    await service.record_pause(session, self.ctx, vid, self._doctors.get(visit_id), data)
            finally:  # the media is paused already (the hub did it); both pages must know
                self.notices.publish(visit_id, {"kind": "paused", "reason": data.get("reason")})
        elif kind == "resumed":
            self.notices.publish(visit_id, {"kind": "resumed", "after": data.get("after")})
        elif kind in ("stalled", "flowing"):  # a participant's network in trouble, and back: the pages only
            self.notices.publish(visit_id, {"kind": kind, "role": data.get("role")})
        elif kind == "recording_finished" and not data.get("stored") and data.get("path"):
            async with self.session_factory() as session:
                await service.record_recording_failed(session, vid, data)
        elif kind == "recording_finished" and data.get("gaps"):
            async with self.session_factory() as session:
                await service.record_recording_gaps(session, vid, data)

    async def _face_check(self, visit_id: str, vid: uuid.UUID, sample: dict[str, Any]) -> None:
        doctor = self._doctors.get(visit_id)
        if doctor is None:
            return
        failed = sample.get("status") == "check_failed"
        alert = failed and visit_id not in self._checker_failing
        if failed:
            self._checker_failing.add(visit_id)
        else:
            self._checker_failing.discard(visit_id)
        async with self.session_factory() as session:
            state = await service.record_face_check(session, self.ctx, vid, doctor, sample, alert=alert)
        self.notices.publish(visit_id, {"kind": "face_check", "status": sample.get("status")}, roles=("doctor",))
        if state not in CALL_STATES:  # completed or terminated while on camera: the call ends with the visit
            self._spawn(self.end_call(visit_id))

    async def _store_recording(self, visit_id: str, role: Role, path: Path, duration_s: float) -> None:
        # Sealed a chunk at a time from the file: a few chunks in memory whatever the visit's length.
        async with self.session_factory() as session:
            await service.store_recording(session, self.ctx, uuid.UUID(visit_id), role, path, duration_s)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def open_video_calls(ctx: HospitalContext, session_factory: SessionFactory) -> VideoCalls:
    calls = VideoCalls(ctx, session_factory)
    ctx.calls = calls
    return calls


async def close_video_calls(ctx: HospitalContext) -> None:
    calls, ctx.calls = ctx.calls, None
    if calls is not None:
        await calls.close()


def video_calls(ctx: HospitalContext) -> VideoCalls:
    return ctx.video_calls()
