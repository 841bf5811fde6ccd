"""`FacePool`: face enrolment and verification off the event loop, in worker processes.

dlib holds the GIL for the whole ~100–250 ms of a verification, so threads would stall the app; worker
processes (one per core by default, each with one BLAS thread) run it instead. Uploads are checked in the
caller's process first, so a refused upload costs microseconds and never occupies a worker.

The app creates one pool, `await pool.start()` at start-up and `await pool.close()` at shutdown; there is no
module-level pool. With `workers=0` the work runs inline in the caller (CLI, tests): it blocks the loop.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, Self, TypeVar

from hospital.biometrics import _worker
from hospital.biometrics.images import RGBImage, check_upload
from hospital.biometrics.settings import FaceSettings
from hospital.biometrics.values import BurstObservation, FaceTemplate, Verification
from hospital.core.errors import ServiceUnavailable

__all__ = ["FacePool"]

T = TypeVar("T")


class FacePool:
    """Runs the face engine's jobs in `settings.workers` processes (0: inline)."""

    def __init__(self, settings: FaceSettings) -> None:
        self.settings = settings
        self._executor: ProcessPoolExecutor | None = None
        self._started = False
        self._warming: asyncio.Future[Any] | None = None
        self._in_flight = 0  # jobs handed to the workers and not yet answered

    @property
    def workers(self) -> int:
        return self.settings.workers

    async def start(self) -> None:
        """Start the workers and wait until each has loaded dlib's models (about 2 s, in parallel)."""
        if self._started:
            return
        if self.workers == 0:
            await asyncio.to_thread(_import_engine_and_warm_up)
        else:
            self._executor = self._new_executor()
            loop = asyncio.get_running_loop()
            # One ping per worker makes the executor spawn them all now rather than on the first requests.
            await asyncio.gather(
                *(loop.run_in_executor(self._executor, _worker.ping) for _ in range(self.workers))
            )
        self._started = True

    def start_in_background(self) -> None:
        """Start the workers without waiting for them to load dlib (the app serves meanwhile): jobs queue behind
        the warm-up, and `warm` tells when it is over (the readiness probe)."""
        if self._started:
            return
        if self.workers == 0:
            self._warming = asyncio.ensure_future(asyncio.to_thread(_import_engine_and_warm_up))
        else:
            self._executor = self._new_executor()
            loop = asyncio.get_running_loop()
            self._warming = asyncio.gather(
                *(loop.run_in_executor(self._executor, _worker.ping) for _ in range(self.workers))
            )
        # Its outcome is read by `_run` and `warm`; a warm-up cancelled at shutdown is not an error to log.
        self._warming.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._started = True

    @property
    def warm(self) -> bool:
        """The workers have loaded the engine (always, after `start`)."""
        return self._started and (self._warming is None or (self._warming.done() and not self._warming.cancelled()
                                                             and self._warming.exception() is None))

    async def close(self) -> None:
        """Stop the workers; queued jobs are cancelled, running ones finish first."""
        executor, self._executor = self._executor, None
        self._started = False
        warming, self._warming = self._warming, None
        if warming is not None and not warming.done():
            warming.cancel()
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _check(self, image_bytes: bytes, content_type: str | None) -> None:
        check_upload(
            image_bytes,
            content_type,
            max_bytes=self.settings.max_upload_bytes,
            max_pixels=self.settings.max_pixels,
        )

    async def encode_enrolment(self, image_bytes: bytes, content_type: str | None) -> FaceTemplate:
        """The template of the one face in an enrolment photo (FACE-01).

        Raises PayloadTooLarge / UnsupportedMediaType (checked here, before any work is queued) and
        RuleViolation("FACE-01", reason="no_face" | "several_faces" | "face_too_small").
        """
        self._check(image_bytes, content_type)
        return await self._run(_worker.encode_enrolment_job, image_bytes, content_type, self.settings)

    async def verify(
        self, template_bytes: bytes, probe_bytes: bytes, content_type: str | None
    ) -> Verification:
        """Compare the face in a probe image with a stored template (FACE-02).

        Raises PayloadTooLarge / UnsupportedMediaType, RuleViolation("FACE-02", reason="no_face" |
        "several_faces"), and ValueError when `template_bytes` is not a template.
        """
        template = FaceTemplate.from_bytes(template_bytes)
        self._check(probe_bytes, content_type)
        return await self._run(_worker.verify_job, template, probe_bytes, content_type, self.settings)

    async def observe_burst(self, template_bytes: bytes, frames: list[tuple[bytes, str | None]]) -> BurstObservation:
        """Observe a liveness burst (FACE-02): in one job, or, when two workers are free, in two halves at once.

        The halves are the clinician's wait halved (a burst costs a whole face encoding per frame, issue 19's
        speed) for one more whole-frame scan and one more decode of CPU (the second half's first frame is scanned
        as a single probe is, the frame before it decoded for the change between them). A busy pool observes
        each burst in one job, the cheapest. Every frame is checked here first (size, type) so a refused upload
        never occupies a worker.
        """
        template = FaceTemplate.from_bytes(template_bytes)
        for data, content_type in frames:
            self._check(data, content_type)
        await self._warmed()
        half = len(frames) // 2
        if half < 2 or self.workers < 2 or self._in_flight + 2 > self.workers:
            return await self._run(_worker.observe_burst_job, template, frames, self.settings)
        halves = [self._submit(_worker.observe_burst_job, template, frames[:half], self.settings),
                  self._submit(_worker.observe_burst_job, template, frames[half:], self.settings, half, frames[half - 1])]
        parts = await asyncio.gather(*(self._answer(*submitted) for submitted in halves), return_exceptions=True)
        observed: list[BurstObservation] = []
        for part in parts:  # the earlier frames' refusal first, as one job would have raised it
            if isinstance(part, BaseException):
                raise part
            observed.append(part)
        first, second = observed
        return BurstObservation(first.frames + second.frames, first.changes + second.changes)

    async def verify_frame(self, template_bytes: bytes, rgb: RGBImage) -> Verification:
        """Like `verify`, for a frame already decoded to an RGB array (a video frame)."""
        template = FaceTemplate.from_bytes(template_bytes)
        return await self._run(_worker.verify_frame_job, template, rgb, self.settings)

    async def _run(self, job: Callable[..., T], *args: Any) -> T:
        await self._warmed()
        if self.workers == 0:
            return job(*args)
        answer: T = await self._answer(*self._submit(job, *args))
        return answer

    async def _warmed(self) -> None:
        if self._warming is not None and not self._warming.done():
            await asyncio.shield(self._warming)  # a failed warm-up raises here, as `start` would have

    def _submit(self, job: Callable[..., Any], *args: Any) -> tuple[ProcessPoolExecutor, asyncio.Future[Any]]:
        """Hand a job to the workers now (counted in `_in_flight` until answered): several submitted in a row are
        known to the pool before any other request runs."""
        executor = self._executor
        if executor is None:
            raise RuntimeError("FacePool.start() has not been awaited")
        future = asyncio.get_running_loop().run_in_executor(executor, _worker.capture, job, *args)
        self._in_flight += 1
        future.add_done_callback(self._answered)
        return executor, future

    def _answered(self, _: asyncio.Future[Any]) -> None:
        self._in_flight -= 1

    async def _answer(self, executor: ProcessPoolExecutor, future: asyncio.Future[Any]) -> Any:
        try:
            result = await future
        except BrokenProcessPool as exc:
            # A worker died (killed, out of memory). Replace the pool for later calls; this one is lost.
            if self._executor is executor:
                self._executor = self._new_executor()
                executor.shutdown(wait=False, cancel_futures=True)
            raise ServiceUnavailable("Face verification is restarting; try again in a few seconds.") from exc
        if isinstance(result, _worker.RemoteError):
            raise result.rebuild()
        return result

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn, not fork: the app's threads (event loop, DB drivers) would be copied mid-state by fork.
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker.init_worker,
        )


def _import_engine_and_warm_up() -> None:
    from hospital.biometrics import engine

    engine.warm_up()
