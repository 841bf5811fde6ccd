"""One visit's media: the two participants' peers, relay between them, recordings and the face watch."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiortc import RTCConfiguration

from hospital.core.errors import InvalidInput, InvalidTransition, NotFound
from hospital.video.bitstream import is_keyframe
from hospital.video.contracts import (
    ROLES,
    CheckFace,
    Role,
    StoreRecording,
    VideoSettings,
    other_role,
)
from hospital.video.facewatch import (
    BreachReason,
    DoctorFrameSampler,
    FaceCheckRecord,
    FaceWatch,
)
from hospital.video.peers import KINDS, ParticipantPeer
from hospital.video.recording import ParticipantRecording

__all__ = ["ConsultRoom"]

logger = logging.getLogger(__name__)

_EXPECTED_CODEC = {"audio": "opus", "video": "vp8"}


class ConsultRoom:
    """A visit's video consultation: relays each side to the other, records both, watches the doctor."""

    def __init__(
        self,
        visit_id: str,
        *,
        settings: VideoSettings,
        configuration: RTCConfiguration | Callable[[], RTCConfiguration],
        emit: Callable[[str, dict[str, Any]], None],
        store_recording: StoreRecording,
        on_empty: Callable[[ConsultRoom], None],
    ) -> None:
        self.visit_id = visit_id
        self.settings = settings
        self._configuration = configuration
        self._emit = emit
        self._store_recording = store_recording
        self._on_empty = on_empty
        self.participants: dict[Role, ParticipantPeer] = {}
        self._recordings: dict[Role, ParticipantRecording] = {}
        self._sampler: DoctorFrameSampler | None = None
        self._watch: FaceWatch | None = None
        self.face_checks: list[FaceCheckRecord] = []
        self.paused = False
        self.pause_reason: BreachReason | None = None
        self.audio_only = False  # an audio visit (语音): no video relayed or recorded, no face watch
        self.closed = False
        self.joining = 0
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        # Recordings kept open for a participant whose connection dropped, until they rejoin or the window ends.
        self._holds: dict[Role, asyncio.Task[None]] = {}
        # Each browser's latest REMB for the video it receives from us (its downlink), bits/s.
        self.downlink: dict[Role, int] = {}
        # When media last arrived from each participant, and who is stalled (nothing for `stall_s`).
        self._last_media: dict[Role, float] = {}
        self.stalled: set[Role] = set()
        self._stall_watch: asyncio.Task[None] | None = None

    @property
    def is_idle(self) -> bool:
        """Nobody connected, nobody joining, not paused, no recording waiting for a rejoin: the hub may forget
        the room."""
        return not self.participants and not self.joining and not self.paused and not self._recordings

    async def join(self, role: Role, offer_sdp: str, *, check_face: CheckFace | None = None,
                   audio_only: bool = False) -> str:
        """Connect `role`'s browser and return the SDP answer; a second join replaces the first peer.

        `audio_only`: the visit was booked as audio (语音): only audio is relayed and recorded, and there is
        no picture to watch (the doctor's identity rests on the verifications at the join and at each signature).
        The first join decides; a room does not change mode.
        """
        if role not in ROLES:
            raise InvalidInput(f"unknown participant role {role!r}")
        self.joining += 1
        try:
            async with self._lock:
                if self.closed:
                    raise InvalidTransition("the consultation room is closed", current_state="closed")
                if not self.participants and not self._recordings:
                    self.audio_only = audio_only
                return await self._join(role, offer_sdp, check_face)
        finally:
            self.joining -= 1

    async def _join(self, role: Role, offer_sdp: str, check_face: CheckFace | None) -> str:
        watching = role == "doctor" and self.settings.face_watch and not self.audio_only
        if watching and check_face is None and self._watch is None:
            raise InvalidInput("the doctor's join needs a face checker (FACE-02)")
        peer, answer = await ParticipantPeer.answer(
            role,
            offer_sdp,
            configuration=self._configuration() if callable(self._configuration) else self._configuration,
            on_media=self._on_media,
            on_keyframe_request=self._on_keyframe_request,
            on_state=self._on_state,
            max_queued=self.settings.forward_queue_frames,
            keyframe_interval_s=self.settings.keyframe_request_interval_s,
            kinds=("audio",) if self.audio_only else KINDS,
            on_downlink_estimate=self._on_downlink_estimate,
        )
        old = self.participants.get(role)
        self.participants[role] = peer
        if old is not None:
            await old.close()  # reconnection: the new peer takes over, the recording carries on
        self.downlink.pop(role, None)  # a new connection estimates afresh
        peer.cap_uplink(self.downlink.get(other_role(role)))  # the other side's downlink still governs
        other = self.participants.get(other_role(role))
        if other is not None:
            other.cap_uplink(None)
        hold = self._holds.pop(role, None)
        if hold is not None:
            hold.cancel()  # back within the rejoin window: the same recording carries on after a gap
        if self.settings.record and role not in self._recordings:
            self._recordings[role] = ParticipantRecording(self._recording_path(role), audio_only=self.audio_only)
        if watching:
            self._start_watch(check_face)
            assert self._watch is not None
            self._watch.restart_grace()  # a rejoining doctor has the whole grace to be on camera again
        self._last_media[role] = time.monotonic()  # the new connection gets `stall_s` to bring media
        if self._stall_watch is None and self.settings.stall_s > 0:
            self._stall_watch = asyncio.create_task(self._watch_stalls(), name="stall-watch")
        self._emit("joined", {"role": role, "rejoined": old is not None or hold is not None, "paused": self.paused})
        return answer

    async def add_ice_candidate(
        self, role: Role, candidate: str | None, *, sdp_mid: str | None = None, sdp_mline_index: int | None = None
    ) -> None:
        """Pass on a candidate the participant's browser trickled after its offer."""
        peer = self.participants.get(role)
        if peer is None:
            raise NotFound(f"no {role} connected to visit {self.visit_id}")
        await peer.add_ice_candidate(candidate, sdp_mid=sdp_mid, sdp_mline_index=sdp_mline_index)

    async def leave(self, role: Role, reason: str = "left") -> None:
        """Disconnect `role`, finish and hand over its recording; unknown roles are ignored."""
        async with self._lock:
            await self._leave(role, reason)
            if self.is_idle and not self.closed:
                # Nobody left and nothing pending: the hub forgets the room; a later join opens a new one.
                self.closed = True
                await self._release()
        if self.closed:
            self._on_empty(self)

    async def _leave(self, role: Role, reason: str) -> None:
        peer = self.participants.pop(role, None)
        if peer is None:
            return
        await peer.close()
        self.downlink.pop(role, None)
        self.stalled.discard(role)
        other = self.participants.get(other_role(role))
        if other is not None:
            other.cap_uplink(None)  # nobody downstream to spare: the hospital's own estimate alone
        if role == "doctor" and self._watch is not None:
            await self._watch.stop()
        # A dropped connection (not a hang-up, not the end of the visit) keeps the recording open for a rejoin.
        dropped = reason.startswith("connection") and not self.closed and self.settings.rejoin_window_s > 0
        detail: dict[str, Any] = {"role": role, "reason": reason}
        if dropped and role in self._recordings:
            self._holds[role] = asyncio.create_task(self._hold(role), name=f"rejoin-window-{role}")
            detail["rejoin_window_s"] = self.settings.rejoin_window_s
        else:
            recording = self._recordings.pop(role, None)
            if recording is not None:
                await self._finish_recording(role, recording)
        self._emit("left", detail)

    async def _watch_stalls(self) -> None:
        """Tell when a connected participant's media stops arriving (a network in trouble) for `stall_s`."""
        interval = min(1.0, self.settings.stall_s / 2)
        while not self.closed:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for role in list(self.participants):
                if role not in self.stalled and now - self._last_media.get(role, now) >= self.settings.stall_s:
                    self.stalled.add(role)
                    self._emit("stalled", {"role": role, "for_s": round(now - self._last_media[role], 1)})

    async def _hold(self, role: Role) -> None:
        """The rejoin window of a participant whose connection dropped: at its end the recording is finished."""
        await asyncio.sleep(self.settings.rejoin_window_s)
        async with self._lock:
            if self._holds.get(role) is not asyncio.current_task() or role in self.participants:
                return
            del self._holds[role]
            recording = self._recordings.pop(role, None)
            if recording is not None:
                await self._finish_recording(role, recording)
            if self.is_idle and not self.closed:
                self.closed = True
                await self._release()
        if self.closed:
            self._on_empty(self)

    async def close(self) -> None:
        """End the room: both peers closed, recordings handed over, the face watch stopped."""
        async with self._lock:
            self.closed = True
            for role in list(self.participants):
                await self._leave(role, "closed")
            holds, self._holds = list(self._holds.values()), {}
            for hold in holds:
                hold.cancel()
            for role, recording in list(self._recordings.items()):  # kept for a rejoin that did not come
                del self._recordings[role]
                await self._finish_recording(role, recording)
            await self._release()
        for task in list(self._tasks):
            await asyncio.gather(task, return_exceptions=True)

    async def _release(self) -> None:
        if self._stall_watch is not None:
            self._stall_watch.cancel()
            self._stall_watch = None
        if self._watch is not None:
            await self._watch.stop()
        if self._sampler is not None:
            await self._sampler.aclose()
            self._sampler = None

    async def pause(self, reason: BreachReason, detail: dict[str, Any] | None = None) -> None:
        """Stop relaying the doctor to the patient until `resume()`; both sides are told via the event."""
        if self.paused:
            return
        self.paused = True
        self.pause_reason = reason
        self._emit("paused", {"reason": reason, "notify": list(ROLES), **(detail or {})})

    def resume(self) -> None:
        """The doctor re-verified (FACE-02): relay again from the doctor's next keyframe."""
        if not self.paused:
            raise InvalidTransition("the consultation is not paused", current_state="live")
        self.paused = False
        reason, self.pause_reason = self.pause_reason, None
        if self._watch is not None:
            self._watch.reset()
        patient, doctor = self.participants.get("patient"), self.participants.get("doctor")
        if patient is not None and "video" in patient.outbound:
            patient.outbound["video"].wait_for_keyframe()
        if doctor is not None:
            doctor.request_keyframe("video")
        self._emit("resumed", {"after": reason, "notify": list(ROLES)})

    # -- media path: called on the event loop for every encoded frame ---------------------------------

    def _on_media(self, peer: ParticipantPeer, kind: str, codec: str, frame: bytes, timestamp: int) -> None:
        if self.participants.get(peer.role) is not peer or codec != _EXPECTED_CODEC[kind] or kind not in peer.outbound:
            return
        self._last_media[peer.role] = time.monotonic()
        if peer.role in self.stalled:
            self.stalled.discard(peer.role)
            self._emit("flowing", {"role": peer.role})
        recording = self._recordings.get(peer.role)
        if recording is not None:
            recording.add(kind, peer, frame, timestamp)
        if peer.role == "doctor":
            if kind == "video" and self._sampler is not None:
                self._sampler.add(peer, frame)
            if self.paused:
                return
        other = self.participants.get(other_role(peer.role))
        if other is not None and kind in other.outbound:
            other.outbound[kind].push(peer, frame, timestamp, is_keyframe(kind, frame))

    def _on_downlink_estimate(self, peer: ParticipantPeer, bits_per_s: int) -> None:
        # `peer`'s browser can receive about this much video: the other browser must not send more than that
        # (the lower of the two legs' estimates governs the sender).
        if self.participants.get(peer.role) is not peer:
            return
        self.downlink[peer.role] = bits_per_s
        source = self.participants.get(other_role(peer.role))
        if source is not None:
            source.cap_uplink(bits_per_s)

    def _on_keyframe_request(self, peer: ParticipantPeer, kind: str) -> None:
        # `peer`'s browser (or our forwarder towards it) needs a keyframe of what the other side sends.
        source = self.participants.get(other_role(peer.role))
        if source is not None:
            source.request_keyframe(kind)

    def _on_state(self, peer: ParticipantPeer, state: str) -> None:
        if state in ("failed", "closed") and self.participants.get(peer.role) is peer:
            self._spawn(self.leave(peer.role, reason=f"connection {state}"))

    # -- helpers --------------------------------------------------------------------------------------

    def _start_watch(self, check_face: CheckFace | None) -> None:
        if self._sampler is None:
            self._sampler = DoctorFrameSampler()
        if self._watch is None:
            assert check_face is not None
            s = self.settings
            self._watch = FaceWatch(
                self._sampler,
                check_face,
                sample_interval_s=s.sample_interval_s,
                grace_s=s.grace_s,
                max_frame_age_s=s.max_frame_age_s,
                check_timeout_s=s.check_timeout_s,
                on_check=self._on_face_check,
                on_breach=self._on_breach,
            )
        elif check_face is not None:
            self._watch.check_face = check_face
        self._watch.start()

    def _on_face_check(self, record: FaceCheckRecord) -> None:
        self.face_checks.append(record)
        self._emit("face_check", {"role": "doctor", **record.as_dict()})

    async def _on_breach(self, reason: BreachReason, for_s: float) -> None:
        await self.pause(reason, {"for_s": round(for_s, 3)})

    async def _finish_recording(self, role: Role, recording: ParticipantRecording) -> None:
        result = await recording.finish()
        data: dict[str, Any] = {
            "role": role,
            "duration_s": round(result.duration_s, 3),
            "video_frames": result.video_frames,
            "audio_frames": result.audio_frames,
            "lost_frames": result.lost_frames,
            "gaps": [[round(a, 3), round(b, 3)] for a, b in result.gaps],
            "stored": False,
        }
        if result.video_frames + result.audio_frames == 0:
            result.path.unlink(missing_ok=True)  # nothing was received: nothing to keep
            data["error"] = result.error or "no media received"
        else:
            try:
                stored = self._store_recording(self.visit_id, role, result.path, result.duration_s)
                if inspect.isawaitable(stored):
                    await stored
            except Exception as exc:  # keep the file for a retry; REC-02 forbids losing it
                logger.exception("storing the %s recording of visit %s failed", role, self.visit_id)
                data["error"] = f"{type(exc).__name__}: {exc}"
                data["path"] = str(result.path)
            else:
                data["stored"] = True
                if result.error:
                    data["error"] = result.error
                result.path.unlink(missing_ok=True)
        self._emit("recording_finished", data)

    def _recording_path(self, role: Role) -> Path:
        folder = self.settings.recording_dir or Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        safe_visit = re.sub(r"[^A-Za-z0-9_.-]", "_", self.visit_id)[:64]
        return folder / f"{safe_visit}-{role}-{uuid.uuid4().hex[:12]}.mkv"

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
