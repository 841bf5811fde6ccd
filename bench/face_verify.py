"""Face verification throughput: bare face_recognition against our engine and FacePool, in one run, for a
single frame and for a liveness burst (FACE-02).

    PYTHONPATH=. .venv/bin/python bench/face_verify.py [--calls 40] [--burst-frames 4]

The probe is a 640×480 webcam-like frame cut from obama2.jpg (face about 270 px tall); the template is
obama.jpg enrolled. Baselines, both on the decoded frame, one core:
  bare (library defaults): face_locations(frame) + face_encodings + face_distance, as the README does it;
  bare (same strategy):    the same three calls with our detection strategy (HOG on a 480-px copy, no
                           upsampling, box scaled back), so ours/that ratio is the wrapper's own overhead.
Then engine.verify in-process, the whole job from JPEG bytes in-process (validation + decode + verify),
and FacePool with 1 and 2 workers (latency of sequential calls, throughput of `--calls` concurrent ones).
Burst: a challenge answered by `--burst-frames` SYNTHETIC frames of obama2.jpg (tests/bursts.py, 640 px JPEGs):
by default the pages' 4 (rest, then one frame per move: turn left, turn right, closer; static/js/liveness.js).
Bare (same strategy as ours): for every frame face_recognition's face_locations (our detection strategy: the
first frame on the 480-px copy, the later ones from the pyramid level of engine.tracking_long_side) +
face_landmarks (68 points) + its 5-point shape, then ONE batched call of face_recognition's own encoder over the
whole burst (dlib's compute_face_descriptor(images, shapes, 1), as ours does) + face_distance. Ours: the pool's
`observe_burst` job from JPEG bytes (check, decode, detect, 68 landmarks, one batched encoding, frame
differences) plus `rules.judge_liveness`. "CPU burst/single" is the CPU time of one burst over one single-frame
verification, in-process; "waited burst/single" the p50 of one burst over one single frame, each through the
two-worker pool one at a time (with two workers free the pool observes a burst's halves at once).
Heavy imports stay inside main(): spawned workers re-import this file and must not load dlib before
their initializer has set OPENBLAS_NUM_THREADS.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import io
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SHARED = Path(os.environ.get("HOSPITAL_SHARED_DIR", Path(__file__).resolve().parents[1].parent / "shared"))


def _stats(seconds: list[float], cpu_seconds: float | None = None) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    figures = {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(p95, 1)}
    figures["per_s"] = round(1000 / statistics.mean(ms), 2)
    if cpu_seconds is not None:  # CPU time is what other engineers' load on the shared cores disturbs least
        figures["cpu_ms"] = round(cpu_seconds * 1000 / len(ms), 1)
    return figures


def _time(call: Callable[[], Any], repeat: int, warm: int = 2) -> dict[str, float]:
    for _ in range(warm):
        call()
    seconds = []
    cpu_start = time.process_time()
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return _stats(seconds, time.process_time() - cpu_start)


def _interleaved_ratio(baseline: Callable[[], Any], measured: Callable[[], Any], rounds: int,
                       clock: Callable[[], float] = time.process_time) -> dict[str, float]:
    """`measured` over `baseline` (a burst over a single frame, ours over the bare calls), each round timing one
    of each back to back (`clock`: CPU time by default): the shared cores' speed changes by up to 2x from one
    minute to the next here, which two phases timed apart would read as a ratio. Median, min and max of the
    rounds' ratios."""
    ratios = []
    for _ in range(rounds):
        start = clock()
        baseline()
        middle = clock()
        measured()
        ratios.append((clock() - middle) / max(middle - start, 1e-9))
    ratios.sort()
    return {"median": round(statistics.median(ratios), 2), "min": round(ratios[0], 2), "max": round(ratios[-1], 2)}


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of live processes, from /proc (Linux)."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _line(name: str, figures: dict[str, float]) -> None:
    cpu = f"   cpu {figures['cpu_ms']:6.1f} ms/call" if "cpu_ms" in figures else ""
    print(
        f"{name:<42} {figures['per_s']:6.2f}/s   p50 {figures['p50_ms']:6.1f} ms"
        f"   p95 {figures['p95_ms']:6.1f} ms{cpu}"
    )


def webcam_frame() -> tuple[Any, bytes]:
    """obama2.jpg cut to 4:3 around the face and scaled to 640×480; the array and its JPEG bytes (q90)."""
    import numpy as np
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(Image.open(SHARED / "faces" / "obama2.jpg")).convert("RGB")
    height = round(image.width * 3 / 4)
    top = max(0, 424 - height // 2)  # the face is centred about 424 px down the portrait
    frame = image.crop((0, top, image.width, top + height)).resize((640, 480), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    frame.save(out, "JPEG", quality=90)
    return np.asarray(frame), out.getvalue()


async def _pool_burst_figures(settings: Any, workers: int, template: bytes, frames: list[bytes], steps: list[str],
                              calls: int) -> dict[str, Any]:
    """A burst judged through a pool: one at a time (with two workers free, FacePool observes its halves at
    once), then `calls // 4` at once (a busy pool: one job per burst)."""
    from hospital.biometrics.liveness import LandmarkLiveness
    from hospital.biometrics.pool import FacePool

    burst: list[tuple[bytes, str | None]] = [(frame, "image/jpeg") for frame in frames]
    async with FacePool(dataclasses.replace(settings, workers=workers)) as pool:
        judge = LandmarkLiveness(pool)
        for _ in range(4):
            assert (await judge.judge(template, steps, burst)).passed
        sequential = []
        for _ in range(max(6, calls // 8)):
            start = time.perf_counter()
            await judge.judge(template, steps, burst)
            sequential.append(time.perf_counter() - start)
        waited = []  # one single frame then one burst, back to back, each waited for alone (see _interleaved_ratio)
        for _ in range(max(8, calls // 2)):
            start = time.perf_counter()
            await pool.verify(template, frames[0], "image/jpeg")
            middle = time.perf_counter()
            await judge.judge(template, steps, burst)
            waited.append((time.perf_counter() - middle) / (middle - start))
        pids = [os.getpid(), *pool._executor._processes]  # type: ignore[union-attr]  # bench only
        cpu_start, start = _cpu_seconds(pids), time.perf_counter()
        verdicts = await asyncio.gather(*(judge.judge(template, steps, burst) for _ in range(max(4, calls // 4))))
        elapsed, cpu = time.perf_counter() - start, _cpu_seconds(pids) - cpu_start
    assert all(v.passed for v in verdicts)
    return {"latency": _stats(sequential), "throughput_per_s": round(len(verdicts) / elapsed, 2),
            "cpu_ms_per_burst": round(cpu * 1000 / len(verdicts), 1),
            "waited_vs_single": round(statistics.median(waited), 2)}


async def _pool_figures(
    settings: Any, workers: int, template: bytes, probe: bytes, calls: int
) -> dict[str, Any]:
    from hospital.biometrics.pool import FacePool

    async with FacePool(dataclasses.replace(settings, workers=workers)) as pool:
        for _ in range(2 * workers):  # warm every worker
            await pool.verify(template, probe, "image/jpeg")
        sequential = []
        for _ in range(max(10, calls // 4)):
            start = time.perf_counter()
            verification = await pool.verify(template, probe, "image/jpeg")
            sequential.append(time.perf_counter() - start)
        assert verification.match
        pids = [os.getpid(), *pool._executor._processes]  # type: ignore[union-attr]  # bench only
        cpu_start, start = _cpu_seconds(pids), time.perf_counter()
        results = await asyncio.gather(*(pool.verify(template, probe, "image/jpeg") for _ in range(calls)))
        elapsed, cpu = time.perf_counter() - start, _cpu_seconds(pids) - cpu_start
    assert all(r.match for r in results)
    return {
        "latency": _stats(sequential),
        "throughput_per_s": round(calls / elapsed, 2),
        "cpu_ms_per_call": round(cpu * 1000 / calls, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=40, help="concurrent calls for the pool throughput")
    parser.add_argument("--repeat", type=int, default=15, help="timed in-process calls per variant")
    parser.add_argument("--burst-frames", type=int, default=4, choices=(4, 7, 10),
                        help="frames of the burst: 4 (rest, then one per move: the pages' burst), 7 (rest between"
                             " moves), 10 (two rests first)")
    parser.add_argument("--detect-long-side", type=int, default=None,
                        help="long side of the copy HOG scans (default: FaceSettings')")
    parser.add_argument("--track-face-px", type=int, default=None,
                        help="FaceSettings.burst_track_face_px for the burst (0: every frame scanned as a probe)")
    args = parser.parse_args()

    import sys
    import warnings

    import dlib
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        import face_recognition as fr

    from hospital.biometrics import _worker, engine, rules
    from hospital.biometrics.images import decode_rgb, reduce_long_side
    from hospital.biometrics.settings import FaceSettings

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.bursts import burst as synthetic_burst
    settings = FaceSettings(workers=0)
    if args.detect_long_side is not None:
        settings = dataclasses.replace(settings, detect_long_side=args.detect_long_side)
    if args.track_face_px is not None:
        settings = dataclasses.replace(settings, burst_track_face_px=args.track_face_px)
    frame, probe = webcam_frame()
    template = _worker.encode_enrolment_job((SHARED / "faces" / "obama.jpg").read_bytes(), None, settings)
    known = template.vector.reshape(1, -1)
    cores = len(os.sched_getaffinity(0))
    print(
        f"dlib {dlib.__version__} from {Path(dlib.__file__).parent.parent}, DLIB_USE_BLAS={dlib.DLIB_USE_BLAS},"
        f" USE_AVX_INSTRUCTIONS={dlib.USE_AVX_INSTRUCTIONS}, {cores} cores; frame {frame.shape[1]}×{frame.shape[0]}"
    )

    def bare_defaults() -> None:
        locations = fr.face_locations(frame)
        fr.face_distance(known, fr.face_encodings(frame, locations)[0])

    def bare_same_strategy() -> None:
        small = reduce_long_side(frame, settings.detect_long_side)
        scale = frame.shape[0] / small.shape[0]
        top, right, bottom, left = fr.face_locations(small, number_of_times_to_upsample=0)[0]
        box = (round(top * scale), round(right * scale), round(bottom * scale), round(left * scale))
        fr.face_distance(known, fr.face_encodings(frame, [box])[0])

    box = engine.locate_faces(frame, detect_long_side=settings.detect_long_side, thorough=False)[0]
    figures: dict[str, Any] = {
        "bare_defaults": _time(bare_defaults, args.repeat),
        "bare_same_strategy": _time(bare_same_strategy, args.repeat),
        "detect_only": _time(
            lambda: engine.locate_faces(frame, detect_long_side=settings.detect_long_side, thorough=False), args.repeat
        ),
        "encode_only": _time(lambda: engine.encode_face(frame, box), args.repeat),
        "engine_verify": _time(
            lambda: engine.verify(template, frame, detect_long_side=settings.detect_long_side), args.repeat
        ),
        "job_from_jpeg": _time(
            lambda: _worker.verify_job(template, probe, "image/jpeg", settings), args.repeat
        ),
    }
    steps = ["turn_left", "turn_right", "closer"]
    per_pose = {4: 1, 7: 1, 10: 2}[args.burst_frames]
    frames = synthetic_burst((SHARED / "faces" / "obama2.jpg").read_bytes(), steps, per_pose=per_pose, seed=1)
    if args.burst_frames == 4:
        frames = [frames[i] for i in (0, 1, 3, 5)]  # rest, left, right, closer: no rest between moves
    decoded = [decode_rgb(f, "image/jpeg", max_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels,
                          long_side=settings.working_long_side) for f in frames]

    def bare_burst() -> None:
        shapes = []
        long_side = settings.detect_long_side
        for index, rgb in enumerate(decoded):
            small = reduce_long_side(rgb, long_side)
            scale = rgb.shape[0] / small.shape[0]
            top, right, bottom, left = fr.face_locations(small, number_of_times_to_upsample=0)[0]
            box = (round(top * scale), round(right * scale), round(bottom * scale), round(left * scale))
            if index == 0:  # later frames from the pyramid level our engine tracks the face on
                long_side = engine.tracking_long_side(rgb, box, long_side, settings.burst_track_face_px)
            fr.face_landmarks(rgb, [box], model="large")
            shapes.append(dlib.full_object_detections([fr.api.pose_predictor_5_point(rgb, dlib.rectangle(
                box[3], box[0], box[1], box[2]))]))
        # face_recognition encodes one image per call; our strategy batches the burst, so the bare baseline
        # makes the same single batched call on face_recognition's own encoder.
        encodings = fr.api.face_encoder.compute_face_descriptor(decoded, shapes, 1)
        fr.face_distance(known, np.array([list(faces[0]) for faces in encodings]))

    def our_burst() -> None:
        observed = _worker.observe_burst_job(template, [(f, "image/jpeg") for f in frames], settings)
        verdict = rules.judge_liveness(steps, observed, tolerance=settings.tolerance,
                                       replay_distance=settings.replay_distance, turn_yaw=settings.turn_yaw,
                                       closer_ratio=settings.closer_ratio, min_frame_change=settings.min_frame_change)
        assert verdict.passed, verdict

    burst_repeat = max(3, args.repeat // 3)
    figures["bare_burst"] = _time(bare_burst, burst_repeat, warm=1)
    figures["burst_from_jpeg"] = _time(our_burst, burst_repeat, warm=1)
    # The part of a burst no detection strategy saves: every frame's identity is checked by its own encoding.
    burst_boxes = [engine.locate_faces(rgb, detect_long_side=settings.detect_long_side, thorough=False)[0]
                   for rgb in decoded]
    figures["burst_encode"] = _time(lambda: engine.encode_faces(decoded, burst_boxes), burst_repeat, warm=1)
    single_job = lambda: _worker.verify_job(template, probe, "image/jpeg", settings)  # noqa: E731
    figures["ratio_burst"] = _interleaved_ratio(single_job, our_burst, 3 * burst_repeat)
    figures["ratio_burst_bare"] = _interleaved_ratio(bare_burst, our_burst, 3 * burst_repeat)
    figures["ratio_encode"] = _interleaved_ratio(single_job, lambda: engine.encode_faces(decoded, burst_boxes),
                                                 3 * burst_repeat)
    for name, label in [
        ("bare_defaults", "bare face_recognition, library defaults"),
        ("bare_same_strategy", "bare face_recognition, our strategy"),
        ("detect_only", f"  of which: detect ({settings.detect_long_side}-px copy)"),
        ("encode_only", "  of which: landmarks + 128-d encoding"),
        ("engine_verify", "engine.verify, in-process"),
        ("job_from_jpeg", "check + decode JPEG + verify, in-process"),
        ("bare_burst", f"bare face_recognition, burst of {len(frames)}"),
        ("burst_from_jpeg", f"burst of {len(frames)} from JPEG + judge, in-process"),
        ("burst_encode", f"  of which: {len(frames)} landmarks + encodings, batched"),
    ]:
        _line(label, figures[name])

    template_bytes = template.to_bytes()
    for workers in (1, 2):
        pool = asyncio.run(_pool_figures(settings, workers, template_bytes, probe, args.calls))
        figures[f"pool_{workers}"] = pool
        _line(f"FacePool, {workers} worker(s), one call at a time", pool["latency"])
        print(
            f"FacePool, {workers} worker(s), {args.calls} concurrent calls:  {pool['throughput_per_s']:6.2f}/s"
            f"   cpu {pool['cpu_ms_per_call']:6.1f} ms/call (workers + caller)"
        )

    for workers in (1, 2):
        burst_pool = asyncio.run(_pool_burst_figures(settings, workers, template_bytes, frames, steps, args.calls))
        figures[f"pool_burst_{workers}"] = burst_pool
        how = "its halves at once" if workers == 2 else "one job"
        _line(f"FacePool, {workers} worker(s), burst of {len(frames)}, one at a time ({how})", burst_pool["latency"])
        print(f"FacePool, {workers} worker(s), concurrent bursts: {burst_pool['throughput_per_s']:6.2f} bursts/s"
              f"   cpu {burst_pool['cpu_ms_per_burst']:6.1f} ms/burst (workers + caller)")
    burst_pool = figures["pool_burst_2"]

    cpu = {name: figures[name]["cpu_ms"] for name in ("bare_defaults", "bare_same_strategy", "engine_verify")}
    job_cpu = figures["job_from_jpeg"]["cpu_ms"]
    summary = {
        "dlib_blas": bool(dlib.DLIB_USE_BLAS),
        "dlib_avx": bool(dlib.USE_AVX_INSTRUCTIONS),
        "detect_long_side": settings.detect_long_side,
        "burst_track_face_px": settings.burst_track_face_px,
        "cores": cores,
        "bare_defaults_cpu_ms": cpu["bare_defaults"],
        "bare_same_strategy_cpu_ms": cpu["bare_same_strategy"],
        "engine_cpu_ms": cpu["engine_verify"],
        "detect_cpu_ms": figures["detect_only"]["cpu_ms"],
        "encode_cpu_ms": figures["encode_only"]["cpu_ms"],
        "job_from_jpeg_cpu_ms": job_cpu,
        "engine_p50_ms": figures["engine_verify"]["p50_ms"],
        "engine_p95_ms": figures["engine_verify"]["p95_ms"],
        "pool1_p50_ms": figures["pool_1"]["latency"]["p50_ms"],
        "pool1_p95_ms": figures["pool_1"]["latency"]["p95_ms"],
        "pool1_per_s": figures["pool_1"]["throughput_per_s"],
        "pool2_per_s": figures["pool_2"]["throughput_per_s"],
        "pool1_cpu_ms_per_call": figures["pool_1"]["cpu_ms_per_call"],
        "pool2_cpu_ms_per_call": figures["pool_2"]["cpu_ms_per_call"],
        # Verifications per second one core can do, from CPU time per call (load on the shared cores
        # changes wall time but hardly CPU time).
        "per_s_per_core": round(1000 / figures["pool_2"]["cpu_ms_per_call"], 2),
        "ratio_engine_vs_bare_same_strategy": round(cpu["engine_verify"] / cpu["bare_same_strategy"], 3),
        "ratio_pool_vs_bare_same_strategy": round(
            figures["pool_2"]["cpu_ms_per_call"] / cpu["bare_same_strategy"], 3
        ),
        "ratio_engine_vs_bare_defaults": round(cpu["engine_verify"] / cpu["bare_defaults"], 3),
        "burst_frames": len(frames),
        "burst_cpu_ms": figures["burst_from_jpeg"]["cpu_ms"],
        "bare_burst_cpu_ms": figures["bare_burst"]["cpu_ms"],
        "burst_p50_ms": figures["burst_from_jpeg"]["p50_ms"],
        "burst_p95_ms": figures["burst_from_jpeg"]["p95_ms"],
        "pool_burst_p50_ms": burst_pool["latency"]["p50_ms"],
        "pool_burst_p95_ms": burst_pool["latency"]["p95_ms"],
        "pool1_burst_p50_ms": figures["pool_burst_1"]["latency"]["p50_ms"],
        # What a clinician waits, burst over single frame, each alone through the two-worker pool, back to back
        # (median of the rounds' ratios).
        "ratio_burst_wait_vs_single": burst_pool["waited_vs_single"],
        "ratio_burst_wait_vs_single_one_worker": figures["pool_burst_1"]["waited_vs_single"],
        "bursts_per_s_per_core": round(1000 / burst_pool["cpu_ms_per_burst"], 2),
        "burst_encode_cpu_ms": figures["burst_encode"]["cpu_ms"],
        # CPU time, burst over single frame, in-process, back to back (median, min, max of the rounds' ratios).
        "ratio_burst_vs_single": figures["ratio_burst"]["median"],
        "ratio_burst_vs_single_range": [figures["ratio_burst"]["min"], figures["ratio_burst"]["max"]],
        # The least a burst can cost over a single frame while every frame is encoded (detection free).
        "ratio_burst_encode_vs_single": figures["ratio_encode"]["median"],
        "ratio_burst_vs_bare_burst": figures["ratio_burst_bare"]["median"],
    }
    print(
        f"overhead ours/bare (same strategy, CPU time): engine {summary['ratio_engine_vs_bare_same_strategy']:.3f},"
        f" pool from JPEG bytes {summary['ratio_pool_vs_bare_same_strategy']:.3f};"
        f" engine/bare with library defaults {summary['ratio_engine_vs_bare_defaults']:.3f}"
    )
    goal = "met" if summary["per_s_per_core"] >= 20 else "NOT met"
    print(
        f"goal >= 20 verifications/s/core: {goal} ({summary['per_s_per_core']}/s/core;"
        f" the encoding alone is {summary['encode_cpu_ms']} ms of CPU, DLIB_USE_BLAS={dlib.DLIB_USE_BLAS})"
    )
    print(
        f"burst of {len(frames)}: waited for (each alone, through the two-worker pool)"
        f" {summary['ratio_burst_wait_vs_single']}x a single frame (goal <= 3; one worker:"
        f" {summary['ratio_burst_wait_vs_single_one_worker']}x);"
        f" CPU {summary['ratio_burst_vs_single']}x a single frame (range {summary['ratio_burst_vs_single_range']};"
        f" its encodings"
        f" alone {summary['ratio_burst_encode_vs_single']}x),"
        f" {summary['ratio_burst_vs_bare_burst']} of the bare calls (goal <= 1.10),"
        f" {summary['bursts_per_s_per_core']} bursts/s/core"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
