"""A recording that failed to store is stored by `hospital video recordings retry` (audited, its kept file gone),
and `hospital retention purge` drops a visit's recordings, row and blob, on the day their 3 years end (REC-02),
not a day before, audited."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from call_steps import accepted_video_visit
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.core.audit import Actor, AuditEntry, verify_chain
from hospital.core.blobs import Blob
from hospital.core.clock import CHINA_TIME
from hospital.retention.service import purge_due
from hospital.video import service
from hospital.video.cli import video
from hospital.video.models import VisitRecording
from tests.conftest import FakeClock
from tests.helpers import count_rows


async def _failed_recording(session: AsyncSession, settings: Settings, visit_id: str) -> tuple[bytes, str]:
    """What the media peer leaves when storing fails: the file kept, `video.recording_not_stored` audited."""
    content = os.urandom(700_000)
    kept = settings.data_dir / "recordings-in-progress" / f"{visit_id}-patient-0123.mkv"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(content)
    await service.record_recording_failed(session, uuid.UUID(visit_id), {
        "role": "patient", "duration_s": 42.5, "video_frames": 600, "audio_frames": 2100,
        "error": "OSError: disk full", "path": str(kept)})
    return content, str(kept)


async def test_a_recording_that_failed_is_stored_by_the_retry_command_and_purged_after_three_years(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, settings: Settings,
    clock: FakeClock, demo: None,
) -> None:
    _, _, visit_id = await accepted_video_visit(client)
    content, kept = await _failed_recording(session, settings, visit_id)
    env = {"HOSPITAL_DATABASE_URL": settings.resolved_database_url, "HOSPITAL_DATA_DIR": str(settings.data_dir)}
    runner = CliRunner()

    def run(*args: str) -> Any:
        return asyncio.to_thread(runner.invoke, video, ["recordings", "retry", *args], env=env)

    listed = await run("--dry-run", "--json")
    assert listed.exit_code == 0, listed.output
    assert [(r["visit_id"], r["role"], r["path"]) for r in json.loads(listed.output)["recordings"]] == [
        (visit_id, "patient", kept)]
    assert (await count_rows(session, VisitRecording))["visit_recording"] == 0  # a dry run stores nothing

    retried = await run("--json")
    assert retried.exit_code == 0, retried.output
    [line] = json.loads(retried.output)["recordings"]
    assert line["stored"] is True and not os.path.exists(kept)
    recording = (await session.execute(select(VisitRecording))).scalar_one()
    assert (str(recording.visit_id), recording.participant_role, recording.size, recording.duration_s) == (
        visit_id, "patient", len(content), 42.5)
    assert await ctx.blob_store().get(recording.recording_sha256) == content
    stored = (await session.execute(select(AuditEntry).where(AuditEntry.action == "video.recording_stored"))).scalar_one()
    failure = (await session.execute(select(AuditEntry).where(AuditEntry.action == "video.recording_not_stored"))
               ).scalar_one()
    assert stored.rule_id == "REC-02" and stored.detail["retry_of"] == str(failure.id)
    keep_until, sha, recording_id = recording.purge_not_before, recording.recording_sha256, str(recording.id)
    assert keep_until >= ctx.local_date(failure.at) + timedelta(days=3 * 365)  # 3 years from the day it was recorded
    await session.rollback()
    again = await run("--json")  # stored once: nothing left to retry
    assert again.exit_code == 0 and json.loads(again.output)["recordings"] == []

    async def purge_on(day: date) -> set[str]:
        clock.current = datetime.combine(day, time(12), CHINA_TIME)
        report = await purge_due(session, ctx, Actor.system("test-retention"))
        return {d.kind for d in report.due if d.kind in ("visit_recording", "blob")}

    assert await purge_on(keep_until - timedelta(days=1)) == set()
    assert (await count_rows(session, VisitRecording))["visit_recording"] == 1
    assert ctx.blob_store()._path(sha).exists()

    assert await purge_on(keep_until) == {"visit_recording", "blob"}
    assert (await count_rows(session, VisitRecording))["visit_recording"] == 0
    assert await session.get(Blob, sha) is None and not ctx.blob_store()._path(sha).exists()
    purged = (await session.execute(select(AuditEntry).where(AuditEntry.action == "retention.purged",
                                                             AuditEntry.subject_type == "visit_recording"))).scalar_one()
    assert purged.rule_id == "REC-02" and purged.detail["keys"] == [recording_id]
    _, broken = await verify_chain(session)
    assert broken is None
