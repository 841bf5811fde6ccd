"""`FacePool`: the engine's jobs in a worker process, with uploads checked in the caller first."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from collections.abc import Callable, Iterator

import pytest

from hospital.biometrics import _worker
from hospital.biometrics.pool import FacePool
from hospital.biometrics.settings import FaceSettings
from hospital.biometrics.values import FaceTemplate, VerificationReason
from hospital.core.errors import (
    PayloadTooLarge,
    RuleViolation,
    ServiceUnavailable,
    UnsupportedMediaType,
)

pytestmark = pytest.mark.requirement("FACE-02")

Photo = Callable[[str], bytes]


@pytest.fixture(scope="module")
def pool(settings: FaceSettings) -> Iterator[FacePool]:
    """One started pool with one worker for the module (starting one costs about 2 s)."""
    face_pool = FacePool(dataclasses.replace(settings, workers=1))
    asyncio.run(face_pool.start())
    yield face_pool
    asyncio.run(face_pool.close())


@pytest.fixture(scope="module")
def obama_template_bytes(pool: FacePool, photo: Photo) -> bytes:
    return asyncio.run(pool.encode_enrolment(photo("obama.jpg"), "image/jpeg")).to_bytes()


@pytest.mark.asyncio
async def test_the_pool_enrols_and_verifies_in_a_worker_process(
    pool: FacePool, obama_template_bytes: bytes, photo: Photo
) -> None:
    verification = await pool.verify(obama_template_bytes, photo("obama2.jpg"), "image/jpeg")
    assert verification.match and verification.reason is VerificationReason.MATCH
    refusal = await pool.verify(obama_template_bytes, photo("biden.jpg"), "image/jpeg")
    assert not refusal.match and refusal.reason is VerificationReason.MISMATCH


@pytest.mark.asyncio
async def test_the_work_runs_in_another_process(pool: FacePool) -> None:
    assert pool._executor is not None
    worker_pid = await asyncio.get_running_loop().run_in_executor(pool._executor, _worker.ping)
    assert worker_pid != os.getpid()


@pytest.mark.asyncio
async def test_a_rule_violation_in_the_worker_reaches_the_caller_intact(
    pool: FacePool, obama_template_bytes: bytes, photo: Photo
) -> None:
    with pytest.raises(RuleViolation) as refused:
        await pool.verify(obama_template_bytes, photo("obama_and_biden.jpg"), "image/jpeg")
    assert refused.value.rule_id == "FACE-02"
    assert refused.value.extra["reason"] == "several_faces"
    with pytest.raises(RuleViolation) as refused_enrolment:
        await pool.encode_enrolment(photo("obama_and_biden.jpg"), None)
    assert refused_enrolment.value.rule_id == "FACE-01"


@pytest.mark.asyncio
async def test_uploads_are_refused_in_the_caller_before_any_worker_is_involved(
    settings: FaceSettings, photo: Photo
) -> None:
    # Never started: any job submitted would fail with RuntimeError instead of the refusals below.
    idle = FacePool(dataclasses.replace(settings, workers=1, max_upload_bytes=500_000))
    template = FaceTemplate([0.0] * 128).to_bytes()
    with pytest.raises(UnsupportedMediaType):
        await idle.verify(template, b"%PDF-1.7 not an image", "image/jpeg")
    with pytest.raises(PayloadTooLarge):
        await idle.encode_enrolment(photo("obama3.jpg"), "image/jpeg")
    with pytest.raises(RuntimeError):
        await idle.verify(template, photo("obama2.jpg"), "image/jpeg")


@pytest.mark.asyncio
async def test_the_in_process_mode_gives_the_same_verdict(
    settings: FaceSettings, obama_template_bytes: bytes, photo: Photo
) -> None:
    async with FacePool(dataclasses.replace(settings, workers=0)) as inline:
        verification = await inline.verify(obama_template_bytes, photo("obama3.jpg"), None)
    assert verification.match


@pytest.mark.asyncio
async def test_a_dead_worker_fails_its_call_as_unavailable_and_the_pool_recovers(
    pool: FacePool, obama_template_bytes: bytes, photo: Photo
) -> None:
    assert pool._executor is not None
    worker_pid = await asyncio.get_running_loop().run_in_executor(pool._executor, _worker.ping)
    os.kill(worker_pid, signal.SIGKILL)
    with pytest.raises(ServiceUnavailable):
        await pool.verify(obama_template_bytes, photo("obama2.jpg"), "image/jpeg")
    # The pool replaced its workers: the module's other tests keep using it.
    verification = await pool.verify(obama_template_bytes, photo("obama2.jpg"), "image/jpeg")
    assert verification.match


@pytest.mark.asyncio
async def test_two_free_workers_observe_the_halves_of_a_burst_at_once_a_busy_pool_in_one_job(
    settings: FaceSettings, obama_template_bytes: bytes, photo: Photo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The clinician waits for half a burst when two workers are free (issue 19's speed); the verdict is the one
    # job's, refusals keep the burst's frame numbers; a pool already busy spends no extra CPU on splitting.
    from tests.bursts import burst, frame, jpeg

    frames = [(data, "image/jpeg") for data in burst(photo("obama2.jpg"), ["turn_left", "turn_right", "closer"],
                                                     per_pose=1, seed=5)]
    page_burst = [frames[i] for i in (0, 1, 3, 5)]  # rest, then one frame per move: what the pages send
    async with FacePool(dataclasses.replace(settings, workers=2)) as two:
        jobs: list[tuple[object, ...]] = []
        submit = two._submit

        def recorded(job: Callable[..., object], *args: object) -> object:
            # a burst's frames, and (start, before) when it is the second half of one
            jobs.append((len(args[1]), *args[3:]) if job is _worker.observe_burst_job else (job.__name__,))
            return submit(job, *args)

        monkeypatch.setattr(two, "_submit", recorded)
        halves = await two.observe_burst(obama_template_bytes, page_burst)
        assert jobs == [(2,), (2, 2, page_burst[1])]
        async with FacePool(dataclasses.replace(settings, workers=0)) as inline:
            whole = await inline.observe_burst(obama_template_bytes, page_burst)
        assert halves.changes == whole.changes
        assert [abs(a.distance - b.distance) < 0.03 for a, b in zip(halves.frames, whole.frames, strict=True)] == [
            True] * 4

        blank = (jpeg(frame(photo("obama2.jpg")).point(lambda _: 0)), "image/jpeg")
        with pytest.raises(RuleViolation) as refused:
            await two.observe_burst(obama_template_bytes, [*page_burst[:3], blank])
        assert refused.value.extra["reason"] == "no_face" and refused.value.extra["frame"] == 4

        jobs.clear()
        busy = asyncio.ensure_future(two.verify(obama_template_bytes, photo("obama2.jpg"), "image/jpeg"))
        await asyncio.sleep(0)  # the verification holds a worker
        await two.observe_burst(obama_template_bytes, page_burst)
        await busy
        assert jobs == [("verify_job",), (4,)]  # the verification, then the burst in one job

        jobs.clear()  # bursts arriving together: the first takes both workers, the others one job each
        await asyncio.gather(*(two.observe_burst(obama_template_bytes, page_burst) for _ in range(3)))
        assert jobs == [(2,), (2, 2, page_burst[1]), (4,), (4,)]
