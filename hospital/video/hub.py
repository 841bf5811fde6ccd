"""The registry of consultation rooms: the one object the signalling layer talks to."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiortc import RTCConfiguration

from hospital.core.errors import NotFound, ServiceUnavailable
from hospital.video import aiortc_adapter
from hospital.video.contracts import (
    CheckFace,
    OnEvent,
    Role,
    StoreRecording,
    VideoSettings,
)
from hospital.video.room import ConsultRoom

__all__ = ["MediaHub"]

logger = logging.getLogger(__name__)


class MediaHub:
    """Holds one `ConsultRoom` per visit; no module globals, so tests and workers each own theirs.

    Events (`joined`, `left`, `paused`, `resumed`, `face_check`, `recording_finished`) reach `on_event`
    in the order they happened, one at a time; a failing callback is logged and does not stop the hub.
    """

    def __init__(
        self,
        *,
        on_event: OnEvent,
        store_recording: StoreRecording,
        settings: VideoSettings | None = None,
        rtc_configuration: RTCConfiguration | Callable[[], RTCConfiguration] | None = None,
    ) -> None:
        aiortc_adapter.check_supported()
        self.settings = settings or VideoSettings()
        # Never aiortc's default (a public Google STUN server): ICE servers come from configuration only.
        # A callable is asked at each join, so time-limited TURN credentials stay fresh (ice.py).
        self._rtc_configuration = rtc_configuration or RTCConfiguration(iceServers=[])
        self._on_event = on_event
        self._store_recording = store_recording
        self._rooms: dict[str, ConsultRoom] = {}
        self._events: asyncio.Queue[tuple[str, str, dict[str, Any]]] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def visit_ids(self) -> list[str]:
        return list(self._rooms)

    def room(self, visit_id: str) -> ConsultRoom:
        try:
            return self._rooms[visit_id]
        except KeyError:
            raise NotFound(f"no video consultation for visit {visit_id}") from None

    async def join(self, visit_id: str, participant_role: Role, offer_sdp: str, *, check_face: CheckFace | None = None,
                   audio_only: bool = False) -> str:
        """Connect a participant's browser to the visit's room and return the SDP answer.

        The hub gathers its ICE candidates before answering, so the answer is complete; the browser may
        trickle its own later through `add_ice_candidate`.
        The doctor's join must bring `check_face`, bound to that doctor's enrolled template (FACE-02), unless
        the visit is `audio_only` (语音: audio relayed and recorded, nothing to watch).
        """
        if self._closed:
            raise ServiceUnavailable("the media peer is shutting down")
        room = self._rooms.get(visit_id)
        if room is None or room.closed:
            room = self._rooms[visit_id] = self._new_room(visit_id)
        return await room.join(participant_role, offer_sdp, check_face=check_face, audio_only=audio_only)

    async def add_ice_candidate(
        self,
        visit_id: str,
        participant_role: Role,
        candidate: str | None,
        *,
        sdp_mid: str | None = None,
        sdp_mline_index: int | None = None,
    ) -> None:
        """Trickle ICE from the browser: `candidate` is RTCIceCandidate.candidate ("" or None ends them).

        Optional: the hub's answer already carries all of its own candidates, and a browser that waits
        for its gathering to complete before sending the offer needs no trickle at all.
        """
        await self.room(visit_id).add_ice_candidate(
            participant_role, candidate, sdp_mid=sdp_mid, sdp_mline_index=sdp_mline_index
        )

    async def leave(self, visit_id: str, participant_role: Role) -> None:
        room = self._rooms.get(visit_id)
        if room is not None:
            await room.leave(participant_role)

    def resume(self, visit_id: str) -> None:
        """Resume a paused visit after the doctor re-verified."""
        self.room(visit_id).resume()

    async def close_visit(self, visit_id: str) -> None:
        """The visit ended: close its room, hand over its recordings, forget it."""
        room = self._rooms.pop(visit_id, None)
        if room is not None:
            await room.close()

    async def close_all(self) -> None:
        """Shutdown: close every room, then deliver the remaining events."""
        self._closed = True
        rooms, self._rooms = list(self._rooms.values()), {}
        results = await asyncio.gather(*(room.close() for room in rooms), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                logger.error("closing a consultation room failed", exc_info=result)
        if self._events is not None:
            await self._events.join()
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
            self._dispatcher = None

    def _new_room(self, visit_id: str) -> ConsultRoom:
        return ConsultRoom(
            visit_id,
            settings=self.settings,
            configuration=self._rtc_configuration,
            emit=lambda kind, data: self._emit(visit_id, kind, data),
            store_recording=self._store_recording,
            on_empty=self._forget_if_idle,
        )

    def _forget_if_idle(self, room: ConsultRoom) -> None:
        if self._rooms.get(room.visit_id) is room:
            del self._rooms[room.visit_id]

    def _emit(self, visit_id: str, kind: str, data: dict[str, Any]) -> None:
        if self._events is None:
            self._events = asyncio.Queue()
        if self._dispatcher is None:
            self._dispatcher = asyncio.create_task(self._dispatch(self._events), name="video-events")
        self._events.put_nowait((visit_id, kind, data))

    async def _dispatch(self, events: asyncio.Queue[tuple[str, str, dict[str, Any]]]) -> None:
        while True:
            visit_id, kind, data = await events.get()
            try:
                await self._on_event(visit_id, kind, data)
            except Exception:
                logger.exception("video event handler failed for %s %s", visit_id, kind)
            finally:
                events.task_done()
