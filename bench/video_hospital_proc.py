"""The hospital side of bench/video_consults.py, run in a child process so its CPU is measured alone.

Modes:
  passthrough  the real `hospital.video.MediaHub` (encoded relay, muxed recordings, face watch)
  audio        the same hub holding audio visits (语音: Opus relayed and recorded, no face watch)
  transcode    the alternative it replaced: aiortc decodes, MediaRelay feeds the re-encoding senders,
               and each participant is recorded with x264 ultrafast + Opus in a thread of its own,
               from its own copy of each frame; the doctor's decoded frames are sampled for the face watch
"""

from __future__ import annotations

import asyncio
import cProfile
import fractions
import os
import queue
import resource
import shutil
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aioice.ice
import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError

from hospital.video import FaceCheck, MediaHub, VideoSettings

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_now() -> dict[str, float]:
    """Process CPU seconds (all threads) and a split by thread name, from getrusage and /proc."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    names = {t.native_id: t.name for t in threading.enumerate()}
    split: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), "native")
        name = "event loop" if name == "MainThread" else name.split("_")[0].rsplit("-", 1)[0]
        split[name] = split.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLK_TCK
    return {"total": usage.ru_utime + usage.ru_stime, **split}


async def match_always(rgb: np.ndarray) -> FaceCheck:
    # The face pool runs elsewhere; its cost is measured separately by the bench.
    return FaceCheck(present=True, match=True, distance=0.35)


class PassThroughHospital:
    audio_only = False

    def __init__(self, workdir: Path, sample_interval_s: float) -> None:
        self.recordings: list[dict[str, Any]] = []
        self.events: dict[str, int] = {}
        settings = VideoSettings(sample_interval_s=sample_interval_s, recording_dir=workdir)
        self.hub = MediaHub(on_event=self._on_event, store_recording=self._store, settings=settings)

    async def _on_event(self, visit_id: str, kind: str, data: dict[str, Any]) -> None:
        self.events[kind] = self.events.get(kind, 0) + 1

    def _store(self, visit_id: str, role: str, path: Path, duration_s: float) -> None:
        self.recordings.append({"role": role, "duration_s": duration_s, "bytes": path.stat().st_size})

    async def join(self, visit_id: str, role: str, offer: str) -> str:
        return await self.hub.join(visit_id, role, offer, check_face=match_always,  # type: ignore[arg-type]
                                   audio_only=self.audio_only)

    async def close(self) -> dict[str, Any]:
        await self.hub.close_all()
        return {"recordings": self.recordings, "events": self.events}


class AudioVisitHospital(PassThroughHospital):
    audio_only = True


class ProxyTrack(MediaStreamTrack):
    """Outgoing track that forwards the other participant's decoded frames once they arrive."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.source: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()

    async def recv(self) -> Any:
        return await (await self.source).recv()


class ThreadedRecorder:
    """x264 ultrafast + Opus into Matroska, encoded in a thread from private copies of the frames."""

    def __init__(self, path: Path) -> None:
        self.path, self.frames = path, 0
        self.items: queue.Queue[tuple[str, Any, float] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="transcode-recorder")
        self.thread.start()
        self.t0 = time.monotonic()

    def add(self, kind: str, frame: Any) -> None:
        self.items.put((kind, frame, time.monotonic() - self.t0))

    def _run(self) -> None:
        out: Any = None
        streams: dict[str, Any] = {}
        audio_pts = 0
        while (item := self.items.get()) is not None:
            kind, shared, at = item
            if out is None:
                if kind != "video":
                    continue
                out = av.open(str(self.path), "w", format="matroska")
                streams["video"] = out.add_stream("libx264", rate=15, options={"preset": "ultrafast"})
                streams["video"].width, streams["video"].height = shared.width, shared.height
                streams["video"].pix_fmt = "yuv420p"
                streams["audio"] = out.add_stream("libopus", rate=48_000)
            frame: Any
            if kind == "video":
                frame = av.VideoFrame.from_ndarray(shared.to_ndarray(format="yuv420p"), format="yuv420p")
                frame.pts, frame.time_base = int(at * 1000), fractions.Fraction(1, 1000)
            else:
                frame = av.AudioFrame.from_ndarray(shared.to_ndarray(), format="s16", layout="stereo")
                frame.sample_rate, frame.pts = 48_000, audio_pts
                audio_pts += frame.samples
            for packet in streams[kind].encode(frame):
                out.mux(packet)
            self.frames += 1
        if out is not None:
            for stream in streams.values():
                out.mux(stream.encode(None))
            out.close()

    async def close(self) -> int:
        self.items.put(None)
        await asyncio.to_thread(self.thread.join)
        return self.path.stat().st_size if self.path.exists() else 0


class TranscodeHospital:
    def __init__(self, workdir: Path, sample_interval_s: float) -> None:
        self.workdir, self.sample_interval_s = workdir, sample_interval_s
        self.relay = MediaRelay()
        self.pcs: list[RTCPeerConnection] = []
        self.outgoing: dict[tuple[str, str], dict[str, ProxyTrack]] = {}
        self.recorders: list[ThreadedRecorder] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.samples = 0

    async def join(self, visit_id: str, role: str, offer: str) -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs.append(pc)
        mine = self.outgoing[(visit_id, role)] = {kind: ProxyTrack(kind) for kind in ("video", "audio")}
        for track in mine.values():
            pc.addTrack(track)
        recorder = ThreadedRecorder(self.workdir / f"{visit_id}-{role}.mkv")
        self.recorders.append(recorder)
        other = (visit_id, "doctor" if role == "patient" else "patient")

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self.tasks.append(asyncio.ensure_future(self._record(self.relay.subscribe(track), recorder, role)))

            async def hand_over() -> None:
                while other not in self.outgoing:
                    await asyncio.sleep(0.05)
                self.outgoing[other][track.kind].source.set_result(self.relay.subscribe(track))

            self.tasks.append(asyncio.ensure_future(hand_over()))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    async def _record(self, track: MediaStreamTrack, recorder: ThreadedRecorder, role: str) -> None:
        next_sample = time.monotonic() + self.sample_interval_s
        while True:
            try:
                frame: Any = await track.recv()
            except MediaStreamError:
                return
            recorder.add(track.kind, frame)
            if role == "doctor" and track.kind == "video" and time.monotonic() >= next_sample:
                await asyncio.to_thread(frame.to_ndarray, format="rgb24")  # the face watch's sample
                self.samples += 1
                next_sample += self.sample_interval_s

    async def close(self) -> dict[str, Any]:
        for pc in self.pcs:
            await pc.close()
        for task in self.tasks:
            task.cancel()
        sizes = [await recorder.close() for recorder in self.recorders]
        return {"recordings": [{"bytes": size} for size in sizes], "events": {"face_samples": self.samples}}


def serve(conn: Connection, mode: str, sample_interval_s: float, profile: str | None = None) -> None:
    """Child process entry point: answers joins, CPU readings and close over `conn`."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]  # loopback only
    if profile is None:
        asyncio.run(_serve(conn, mode, sample_interval_s))
    else:  # where the event loop's CPU goes (threads are not profiled)
        cProfile.runctx("asyncio.run(_serve(conn, mode, sample_interval_s))", globals(), locals(), profile)


async def _serve(conn: Connection, mode: str, sample_interval_s: float) -> None:
    loop = asyncio.get_running_loop()
    workdir = Path(tempfile.mkdtemp(prefix="bench-video-"))
    cls = {"passthrough": PassThroughHospital, "audio": AudioVisitHospital}.get(mode, TranscodeHospital)
    hospital = cls(workdir, sample_interval_s)
    conn.send("ready")
    try:
        while True:
            command, *args = await loop.run_in_executor(None, conn.recv)
            if command == "join":
                conn.send(await hospital.join(*args))
            elif command == "cpu":
                conn.send(cpu_now())
            elif command == "close":
                conn.send(await hospital.close())
                return
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
