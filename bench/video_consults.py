"""Capacity of the hospital's media peer: N simulated video visits, recorded and face-watched.

Each visit is two simulated browsers (patient, doctor) in this process, each sending 640×480@15 VP8 and
Opus through the hospital peer, which runs in a child process so its CPU is measured alone. Phases, in
one run so the figures compare as ratios:

  direct       one browser pair connected to each other, no hospital: the latency baseline
  transcode    the alternative design (decode, MediaRelay, re-encode, x264-ultrafast recording in a thread)
  passthrough  hospital.video.MediaHub (encoded relay, muxed recordings, face watch) for each N
  audio        the same hub holding audio visits (语音, Opus only, recorded, no face watch) for the largest N
  two workers  the largest N of passthrough visits placed alternately on two hub processes, as
               `hospital media-worker` places calls on two workers: does the capacity scale out with processes?

The face checks are measured on the hospital's own check (`hospital.biometrics.engine.verify`, what the face
pool runs for each sample of the watch: one 640×480 webcam frame of the enrolled doctor) and counted on the same
core as the media peer: visits per core = 1 / (media CPU per visit + check CPU / sample interval).

Run:  PYTHONPATH=. /work/venv/bin/python bench/video_consults.py [--visits 1,2,4] [--seconds 15] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import aioice.ice
from aiortc import RTCSessionDescription
from video_clients import BenchBrowser, encode_clip, encode_tone, stream_figures
from video_hospital_proc import serve

FACES = Path("/work/shared/faces")


class HospitalProcess:
    """The hospital peer in a child process, driven over a pipe."""

    def __init__(self, mode: str, sample_interval_s: float, profile: str | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(child, mode, sample_interval_s, profile), daemon=True)
        self.process.start()
        assert self.conn.recv() == "ready"

    async def call(self, *message: Any) -> Any:
        self.conn.send(message)
        return await asyncio.to_thread(self.conn.recv)

    async def stop(self) -> Any:
        result = await self.call("close")
        self.process.join(timeout=30)
        return result


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs, to tell how much foreign load shared the run."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def connect(offerer: BenchBrowser, answer: Any) -> None:
    await offerer.pc.setLocalDescription(await offerer.pc.createOffer())
    sdp = await answer(offerer.pc.localDescription.sdp)
    await offerer.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))


async def run_phase(mode: str, visits: int, media: dict[str, Any], args: argparse.Namespace,
                    workers: int = 1) -> dict[str, Any]:
    """One phase; with `workers` > 1 the visits are placed alternately on that many hub processes (one call on one
    worker, as the media-worker placement does) and their CPU is summed."""
    profile = f"{args.profile}.{mode}.{visits}" if args.profile else None
    hospitals = [HospitalProcess(mode, args.sample_interval, profile and f"{profile}.w{n}")
                 for n in range(workers)] if mode != "direct" else []
    hospital = hospitals[0] if hospitals else None
    pairs: list[tuple[BenchBrowser, BenchBrowser]] = []
    for v in range(visits):
        video = mode != "audio"
        patient = BenchBrowser(media["clip"], media["tone"], send_video=video)
        doctor = BenchBrowser(media["clip"], media["tone"], send_video=video)
        patient.other, doctor.other = doctor, patient
        pairs.append((patient, doctor))
        if hospital is None:

            async def answer(offer: str, doctor: BenchBrowser = doctor) -> str:
                await doctor.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
                await doctor.pc.setLocalDescription(await doctor.pc.createAnswer())
                return doctor.pc.localDescription.sdp

            await connect(patient, answer)
        else:
            worker = hospitals[v % len(hospitals)]
            for role, browser in (("patient", patient), ("doctor", doctor)):
                await connect(browser, lambda offer, v=v, role=role, worker=worker: worker.call(
                    "join", f"visit-{v}", role, offer))
    deadline = time.monotonic() + 30
    while not all((p.received and d.received) if mode != "audio" else (p.audio_frames and d.audio_frames)
                  for p, d in pairs):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{mode} x{visits}: media did not start flowing")
        await asyncio.sleep(0.1)
    await asyncio.sleep(args.warmup)

    cpu0 = await _cpu(hospitals)
    me0, busy0, t0 = own_cpu(), machine_busy(), time.monotonic()
    await asyncio.sleep(args.seconds)
    cpu1 = await _cpu(hospitals)
    me1, busy1, t1 = own_cpu(), machine_busy(), time.monotonic()

    streams = [stream_figures(a, b, t0, t1) for p, d in pairs for a, b in ((p, d), (d, p))]
    for p, d in pairs:
        await p.close()
        await d.close()
    closing: dict[str, Any] = {"recordings": [], "events": {}}
    for worker in hospitals:
        closed = await worker.stop()
        closing["recordings"] += closed.get("recordings", [])
        for name, count in closed.get("events", {}).items():
            closing["events"][name] = closing["events"].get(name, 0) + count

    span = t1 - t0
    latencies = sorted(x * 1000 for s in streams for x in s["latencies"])
    sent, received = sum(s["sent"] for s in streams), sum(s["received"] for s in streams)
    hospital_cpu = (cpu1["total"] - cpu0["total"]) / span
    split = {k: round((cpu1.get(k, 0.0) - cpu0.get(k, 0.0)) / span / visits, 4) for k in cpu1
             if k not in ("total", "workers")}
    ticks = os.sysconf("SC_CLK_TCK")
    machine = (busy1[0] - busy0[0]) / ticks / span
    return {
        "mode": mode,
        "visits": visits,
        "workers": len(hospitals),
        "worker_cpu_cores": [round((b - a) / span, 3) for a, b in zip(cpu0["workers"], cpu1["workers"], strict=True)],
        "hospital_cpu_per_visit": round(hospital_cpu / visits, 4),
        "hospital_cpu_by_thread_per_visit": {k: v for k, v in sorted(split.items(), key=lambda i: -i[1]) if v},
        "clients_cpu": round((me1 - me0) / span, 3),
        "foreign_load_cores": round(max(0.0, machine - hospital_cpu - (me1 - me0) / span), 3),
        "machine_saturated": machine > 0.9 * (os.cpu_count() or 1),
        "frames_sent": sent,
        "frames_received": received,
        "frames_lost": sent - received,
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1) if latencies else None,
        "unreadable_frames": sum(p.unreadable + d.unreadable for p, d in pairs),
        "keyframes_on_request": sum(b.video.keyframes_on_request for pair in pairs for b in pair if b.video),
        "audio_frames_received": sum(p.audio_frames + d.audio_frames for p, d in pairs),
        "recordings": closing.get("recordings", []),
        "events": closing.get("events", {}),
    }


async def _cpu(hospitals: list[HospitalProcess]) -> dict[str, Any]:
    """CPU seconds of every hub process summed (by thread name too), and each process's own total."""
    total: dict[str, Any] = {"total": 0.0, "workers": []}
    for worker in hospitals:
        figures = await worker.call("cpu")
        total["workers"].append(figures["total"])
        for name, seconds in figures.items():
            total[name] = total.get(name, 0.0) + seconds
    return total


def hospital_check_seconds(repeats: int = 5) -> dict[str, Any] | None:
    """CPU seconds of one sample of the face watch as the hospital checks it (`engine.verify`, the face pool's
    job for each sample): a 640×480 webcam frame of the enrolled doctor (obama2.jpg) against the template of
    his enrolment photo (obama.jpg). And which dlib build ran it (BLAS or not, PERFORMANCE.md)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import dlib
            import numpy as np
            from PIL import Image

            from hospital.biometrics import engine
    except ImportError:
        return None

    def frame(name: str) -> Any:
        image = Image.open(FACES / name).convert("RGB")
        image.thumbnail((640, 480))
        canvas = Image.new("RGB", (640, 480), (128, 128, 128))
        canvas.paste(image, ((640 - image.width) // 2, 0))
        return np.asarray(canvas)

    enrolled = frame("obama.jpg")
    template = engine.encode_face(enrolled, engine.locate_faces(enrolled, detect_long_side=480, thorough=True)[0])
    probe = frame("obama2.jpg")
    engine.warm_up()
    result = engine.verify(template, probe)
    start = time.process_time()
    for _ in range(repeats):
        engine.verify(template, probe)
    return {"seconds": (time.process_time() - start) / repeats, "match": result.match,
            "dlib_blas": bool(getattr(dlib, "DLIB_USE_BLAS", False))}


def face_check_seconds(repeats: int = 3) -> dict[str, float] | None:
    """CPU seconds of one face check on a 640×480 picture: face_recognition's defaults (HOG on the frame
    upsampled ×2, then the 128-d encoding) and the way PERFORMANCE.md advises (HOG on a half-size copy
    without upsampling, encoding from the full frame)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import face_recognition
        import numpy as np
        from PIL import Image
    except ImportError:
        return None
    image = Image.open(FACES / "obama2.jpg").convert("RGB")
    image.thumbnail((640, 480))
    canvas = Image.new("RGB", (640, 480), (128, 128, 128))
    canvas.paste(image, ((640 - image.width) // 2, 0))
    rgb = np.asarray(canvas)
    half = rgb[::2, ::2].copy()

    def defaults() -> None:
        face_recognition.face_encodings(rgb, face_recognition.face_locations(rgb))

    def advised() -> None:
        boxes = face_recognition.face_locations(half, number_of_times_to_upsample=0)
        assert boxes, "the half-size picture must still show the face"
        face_recognition.face_encodings(rgb, [tuple(2 * v for v in box) for box in boxes])

    costs = {}
    for name, check in (("defaults", defaults), ("advised", advised)):
        check()  # warm-up
        start = time.process_time()
        for _ in range(repeats):
            check()
        costs[name] = (time.process_time() - start) / repeats
    return costs


def describe(r: dict[str, Any], baseline_p50: float | None) -> str:
    added = f"{r['latency_p50_ms'] - baseline_p50:+.0f} ms" if baseline_p50 and r["latency_p50_ms"] else "n/a"
    return (
        f"{r['mode']:<11} x{r['visits']}: hospital CPU/visit {r['hospital_cpu_per_visit']:.3f} core | "
        f"frames {r['frames_sent']}->{r['frames_received']} (lost {r['frames_lost']}) | "
        f"latency p50/p95 {r['latency_p50_ms']}/{r['latency_p95_ms']} ms (added vs direct {added}) | "
        f"PLI keyframes {r['keyframes_on_request']} | "
        f"clients {r['clients_cpu']:.2f} core, foreign load {r['foreign_load_cores']:.2f}"
        + (" | MACHINE SATURATED: loss/latency not the peer's" if r["machine_saturated"] else "")
    )


async def main(args: argparse.Namespace) -> None:
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]  # loopback only
    clip = encode_clip()
    media: dict[str, Any] = {"clip": clip, "tone": None if args.no_audio else encode_tone()}
    kbps = sum(len(f) for f in clip) * 8 * 15 / len(clip) / 1000
    print(
        f"clip: 640x480@15 VP8 {kbps:.0f} kbit/s, audio {'off' if args.no_audio else 'Opus on'}; "
        f"{args.warmup:.0f} s warm-up + {args.seconds:.0f} s measured per phase"
    )
    results: list[dict[str, Any]] = []
    direct = await run_phase("direct", 1, media, args)
    print(describe(direct, None))
    baseline = direct["latency_p50_ms"]
    if not args.skip_transcode:
        results.append(await run_phase("transcode", 1, media, args))
        print(describe(results[-1], baseline))
    for visits in args.visits:
        results.append(await run_phase("passthrough", visits, media, args))
        r = results[-1]
        print(describe(r, baseline))
        print(f"             by thread per visit: {r['hospital_cpu_by_thread_per_visit']}")
        print(f"             recordings: {[round(x['duration_s'], 1) for x in r['recordings']]} s; events {r['events']}")

    if args.workers > 1:
        largest = max(args.visits)
        results.append(await run_phase("passthrough", largest, media, args, workers=args.workers))
        r = results[-1]
        print(describe(r, baseline) + f" | {r['workers']} workers, CPU each {r['worker_cpu_cores']} core")

    if not args.skip_audio:
        results.append(await run_phase("audio", max(args.visits), media, args))
        r = results[-1]
        print(f"audio       x{r['visits']}: hospital CPU/visit {r['hospital_cpu_per_visit']:.3f} core | audio frames "
              f"received {r['audio_frames_received']} | clients {r['clients_cpu']:.2f} core, foreign load "
              f"{r['foreign_load_cores']:.2f}" + (" | MACHINE SATURATED" if r["machine_saturated"] else ""))
        print(f"             recordings: {[round(x['duration_s'], 1) for x in r['recordings']]} s; events {r['events']}")

    passthrough = [r for r in results if r["mode"] == "passthrough" and r["workers"] == 1]
    spread = [r for r in results if r["mode"] == "passthrough" and r["workers"] > 1]
    worst = max(r["hospital_cpu_per_visit"] for r in passthrough)
    checks = None if args.no_face_cost else face_check_seconds()
    hospital_check = None if args.no_face_cost else hospital_check_seconds()
    check_s = hospital_check["seconds"] if hospital_check else checks["advised"] if checks else None
    face_load = check_s / args.sample_interval if check_s else 0.0
    summary: dict[str, Any] = {
        "direct_latency_p50_ms": baseline,
        "passthrough": {
            str(r["visits"]): {
                k: r[k]
                for k in (
                    "hospital_cpu_per_visit",
                    "frames_sent",
                    "frames_lost",
                    "latency_p50_ms",
                    "latency_p95_ms",
                    "machine_saturated",
                )
            }
            | {"added_latency_p50_ms": round(r["latency_p50_ms"] - baseline, 1)}
            for r in passthrough
        },
        "hospital_cpu_per_visit": worst,
        "visits_per_core": round(1 / worst, 1),
        "face_check_cpu_s": round(check_s, 3) if check_s else None,
        "face_check_cpu_s_library_defaults": round(checks["defaults"], 3) if checks else None,
        "face_pool_cpu_per_visit": round(face_load, 4),
        "visits_per_core_with_face_checks": round(1 / (worst + face_load), 1),
        "face_check_engine": "hospital.biometrics.engine.verify" if hospital_check else "face_recognition half-size",
        "face_check_cpu_s_half_size_recipe": round(checks["advised"], 3) if checks else None,
        "dlib_blas": hospital_check["dlib_blas"] if hospital_check else None,
    }
    if spread:
        one = next(r for r in passthrough if r["visits"] == spread[0]["visits"])
        summary["two_workers"] = {
            "visits": spread[0]["visits"], "workers": spread[0]["workers"],
            "cpu_per_visit": spread[0]["hospital_cpu_per_visit"], "worker_cpu_cores": spread[0]["worker_cpu_cores"],
            "frames_lost": spread[0]["frames_lost"], "latency_p50_ms": spread[0]["latency_p50_ms"],
            "latency_p95_ms": spread[0]["latency_p95_ms"], "machine_saturated": spread[0]["machine_saturated"],
            # Within this run: the same visits on one worker process, the baseline.
            "cpu_per_visit_ratio_to_one_worker": round(spread[0]["hospital_cpu_per_visit"]
                                                       / max(one["hospital_cpu_per_visit"], 1e-6), 2),
            "latency_p95_ratio_to_one_worker": round((spread[0]["latency_p95_ms"] or 0)
                                                     / max(one["latency_p95_ms"] or 1, 1e-6), 2),
            "busiest_process_cores_one_worker": one["worker_cpu_cores"][0],
            "busiest_process_cores_two_workers": max(spread[0]["worker_cpu_cores"]),
        }
    audio = [r for r in results if r["mode"] == "audio"]
    if audio:
        summary["audio_visits"] = audio[0]["visits"]
        summary["audio_cpu_per_visit"] = audio[0]["hospital_cpu_per_visit"]
        summary["audio_visits_per_core"] = round(1 / max(audio[0]["hospital_cpu_per_visit"], 1e-6), 1)
        summary["audio_recordings_s"] = [round(x["duration_s"], 1) for x in audio[0]["recordings"]]
    transcode = [r for r in results if r["mode"] == "transcode"]
    if transcode:
        summary["transcode_cpu_per_visit"] = transcode[0]["hospital_cpu_per_visit"]
        summary["transcode_over_passthrough_cpu_ratio"] = round(transcode[0]["hospital_cpu_per_visit"] / worst, 2)
        summary["transcode_added_latency_p50_ms"] = round(transcode[0]["latency_p50_ms"] - baseline, 1)
    print(
        f"one core sustains about {summary['visits_per_core']} recorded-and-watched visits in the media peer "
        f"(worst CPU/visit {worst:.3f}); with the face checks ({summary['face_check_cpu_s']} s per check every "
        f"{args.sample_interval:.0f} s) counted on the same core: {summary['visits_per_core_with_face_checks']}"
    )
    if hospital_check:
        blas = "with" if hospital_check["dlib_blas"] else "without"
        print(f"face check per sample, the hospital's own (engine.verify, dlib {blas} BLAS): "
              f"{hospital_check['seconds']:.3f} s CPU, doctor matched: {hospital_check['match']}")
    if checks:
        print(
            f"face check per sample: {checks['advised']:.3f} s CPU with half-size detection, "
            f"{checks['defaults']:.3f} s with face_recognition's defaults"
        )
    if audio:
        print(f"audio visits: {summary['audio_cpu_per_visit']:.3f} core each, about {summary['audio_visits_per_core']} "
              "per core (no face watch: the doctor verifies before and at each signature)")
    print("one worker process does about one core of Python work: plan ~70% of that and add processes")
    print(json.dumps(summary))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visits", default="1,2,4", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--seconds", default=15.0, type=float)
    parser.add_argument("--warmup", default=4.0, type=float)
    parser.add_argument("--sample-interval", default=3.0, type=float)
    parser.add_argument("--no-audio", action="store_true")
    parser.add_argument("--skip-transcode", action="store_true")
    parser.add_argument("--no-face-cost", action="store_true")
    parser.add_argument("--skip-audio", action="store_true", help="no audio-visit phase")
    parser.add_argument("--workers", default=2, type=int,
                        help="hub processes for the spread phase at the largest N (1: no such phase)")
    parser.add_argument("--profile", help="cProfile the hospital's event loop into PROFILE.<mode>.<visits>")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
