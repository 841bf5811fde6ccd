"""Use cases of a visit's video call (issue 6): who may join, what the face watch found, pausing and resuming
(FACE-02), and keeping the recordings (REC-02).

One use case, one transaction, and the only place that commits. The media hub's callbacks run outside any
request; `calls.VideoCalls` opens a session of its own for each and calls these functions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.biometrics.gate import require_practice_session
from hospital.biometrics.models import FaceEnrolment
from hospital.biometrics.service.verification import TEMPLATE_CONTEXT
from hospital.context import HospitalContext
from hospital.contracts.video import VideoPaused, VideoResumed
from hospital.core.audit import Actor, AuditEntry, append_audit
from hospital.core.blobs import store_blob_file
from hospital.core.errors import Conflict, RuleViolation
from hospital.core.outbox import emit
from hospital.core.retention import RetentionClass, purge_not_before
from hospital.identity.tokens import Principal
from hospital.institution.service import require_licence_in_force
from hospital.staff.service import require_can_practise
from hospital.video.contracts import Role
from hospital.video.models import VideoFaceCheck, VisitRecording
from hospital.video.rules import CALL_STATES, check_call_open, check_may_resume, doctor_join_starts_visit
from hospital.visits.booking import queries
from hospital.visits.booking.models import Visit
from hospital.visits.booking.rules import queue_place

__all__ = [
    "AUDIO_RECORDING_TYPE",
    "CALL_MODES",
    "RECORDING_TYPE",
    "WATCH_ACTOR",
    "FailedRecording",
    "JoinTicket",
    "call_status",
    "doctor_visits_open",
    "failed_recordings",
    "prepare_join",
    "record_call_event",
    "record_face_check",
    "record_pause",
    "record_recording_failed",
    "record_recording_gaps",
    "resume_call",
    "retry_recording",
    "store_recording",
    "waiting_room",
]

RECORDING_TYPE = "video/x-matroska"
AUDIO_RECORDING_TYPE = "audio/x-matroska"  # an audio visit's recording: Opus only
CALL_MODES = ("video", "audio")
# The face watch acts for the hospital, not for a person (FACE-02 pauses are the system's decision).
WATCH_ACTOR = Actor.system("face-watch")


@dataclass(frozen=True, slots=True)
class JoinTicket:
    """What a join may proceed with, decided before any media is touched."""

    visit_id: uuid.UUID
    role: Role
    state: str
    paused: bool
    starts_visit: bool  # the doctor's join of an accepted visit starts it
    template: bytes | None  # the doctor's opened enrolment template, for the live face watch (video visits)
    mode: str = "video"  # video | audio (语音: no picture, no face watch)

    @property
    def audio_only(self) -> bool:
        return self.mode == "audio"


async def _participant_visit(session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> Visit:
    """The visit if the caller is its patient or doctor (anyone else: NotFound, SEC-01)."""
    return await queries.visit_of_participant(session, visit_id, principal.user_id, principal.role)


async def prepare_join(session: AsyncSession, ctx: HospitalContext, principal: Principal,
                       visit_id: uuid.UUID) -> JoinTicket:
    """Check that the caller may join the visit's call now; reads only (a refusal changes nothing).

    Only the visit's patient or doctor (else 404); a video or audio visit, accepted or in progress (REV-04);
    the licence in force (INS-01); the doctor in a practice session (FACE-02: a face verification before taking
    the patient, whatever the mode), still able to practise in the visit's department (STAFF-03) and, for a
    video visit, enrolled (FACE-01), since the watch compares every sample with it. An audio visit has no picture
    to watch: its doctor's signatures each need a fresh verification (FACE-03), as every signature does.
    """
    visit = await _participant_visit(session, principal, visit_id)
    check_call_open(visit.state)
    if visit.mode not in CALL_MODES:
        raise Conflict(f"the visit was booked as a {visit.mode} consultation; it has no call")
    await require_licence_in_force(session, ctx)
    role: Role = "doctor" if principal.role == "doctor" else "patient"
    template = None
    if role == "doctor":
        require_practice_session(ctx, principal)
        await require_can_practise(session, ctx, principal.user_id, visit.department_code)
        if visit.mode == "video":
            template = await _doctor_template(session, ctx, principal.user_id)
    ticket = JoinTicket(visit.id, role, visit.state, visit.paused, doctor_join_starts_visit(role, visit.state), template,
                        visit.mode)
    await session.rollback()  # a read: release SQLite's lock before the media negotiation
    return ticket


async def _doctor_template(session: AsyncSession, ctx: HospitalContext, user_id: uuid.UUID) -> bytes:
    sealed = (await session.execute(select(FaceEnrolment.template_sealed)
                                    .where(FaceEnrolment.user_id == user_id))).scalar_one_or_none()
    if sealed is None:
        raise RuleViolation("FACE-01", "no face is enrolled for this doctor; the call's face watch needs one")
    return ctx.cipher.open(sealed, context=TEMPLATE_CONTEXT)


async def call_status(session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> dict[str, Any]:
    """The call as its participant sees it in the database (the live part comes from the media hub)."""
    visit = await _participant_visit(session, principal, visit_id)
    status = {"visit_id": str(visit.id), "state": visit.state, "mode": visit.mode, "paused": visit.paused,
              "role": "doctor" if principal.role == "doctor" else "patient"}
    await session.rollback()
    return status


async def waiting_room(session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> dict[str, Any]:
    """Where the visit stands in its schedule's queue (the visit's patient or doctor only). Reads only. The place
    is `booking.rules.queue_place`, as the visit views give it, so the waiting page and the visit list agree
    and the position moves when a visit ahead is taken by the doctor (REV-06, issue 16)."""
    visit = await _participant_visit(session, principal, visit_id)
    queue = (await queries.schedule_queues(session, {visit.schedule_id}))[visit.schedule_id]
    place = queue_place(visit.queue_number, visit.state, queue)
    room = {"visit_id": str(visit.id), "state": visit.state, "mode": visit.mode, "queue_number": visit.queue_number,
            "ahead": place.ahead if place else 0, "position": place.position if place else None,
            "with_doctor_ahead": place.with_doctor_ahead if place else 0}
    await session.rollback()
    return room


async def doctor_visits_open(session: AsyncSession, principal: Principal,
                             visit_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Of `visit_ids`, the doctor's own visits still open, with their queue numbers. Reads only."""
    if not visit_ids:
        return {}
    rows = (await session.execute(select(Visit.id, Visit.queue_number).where(
        col(Visit.id).in_(visit_ids), Visit.doctor_user_id == principal.user_id,
        col(Visit.state).in_(CALL_STATES)))).all()
    await session.rollback()
    return {visit_id: number for visit_id, number in rows}


async def record_call_event(session: AsyncSession, actor: Actor, visit_id: uuid.UUID, action: str,
                            detail: dict[str, Any]) -> None:
    """Audit a participant joining or leaving the call (`video.joined`, `video.left`)."""
    await append_audit(session, actor, action, subject_type="visit", subject_id=visit_id, detail=detail)
    await session.commit()


async def record_face_check(session: AsyncSession, ctx: HospitalContext, visit_id: uuid.UUID,
                            doctor_user_id: uuid.UUID, sample: dict[str, Any], *, alert: bool) -> str:
    """Keep one sample of the face watch (every sample is kept; only breaches reach the audit trail).

    `alert`: the checker itself failed (face pool down): audited once per streak, since a failing checker
    neither starts nor clears a breach. Returns the visit's state, so the caller can end the call of a
    visit that has ended.
    """
    session.add(VideoFaceCheck(visit_id=visit_id, doctor_user_id=doctor_user_id, at=ctx.now(),
                               at_s=float(sample.get("at_s", 0.0)), status=str(sample["status"]),
                               present=bool(sample.get("present")), match=bool(sample.get("match")),
                               distance=sample.get("distance")))
    if alert:
        await append_audit(session, WATCH_ACTOR, "video.face_check_failed", subject_type="visit", subject_id=visit_id,
                           rule_id="FACE-02", detail={"doctor_user_id": doctor_user_id, "at_s": sample.get("at_s")})
    state = (await session.execute(select(Visit.state).where(Visit.id == visit_id))).scalar_one()
    await session.commit()
    return state


async def record_pause(session: AsyncSession, ctx: HospitalContext, visit_id: uuid.UUID,
                       doctor_user_id: uuid.UUID | None, breach: dict[str, Any]) -> bool:
    """The face watch paused the call: mark the visit, audit and report it (FACE-02). False if it already was."""
    visit = (await session.execute(select(Visit).where(Visit.id == visit_id).with_for_update()
                                   .execution_options(populate_existing=True))).scalar_one()
    if visit.paused:
        await session.rollback()
        return False
    visit.paused = True
    visit.version += 1
    visit.touch()
    detail = {"reason": breach.get("reason"), "for_s": breach.get("for_s"), "doctor_user_id": doctor_user_id}
    await append_audit(session, WATCH_ACTOR, "video.paused", subject_type="visit", subject_id=visit.id,
                       rule_id="FACE-02", detail=detail)
    await emit(session, "video.paused", subject_type="visit", subject_id=visit.id, version=visit.version,
               payload=VideoPaused(visit_id=str(visit.id), doctor_user_id=str(visit.doctor_user_id), paused_at=ctx.now(),
                                   reason=breach.get("reason"), for_s=breach.get("for_s")))
    await session.commit()
    return True


async def resume_call(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                      visit_id: uuid.UUID) -> Visit:
    """The doctor verified again (a practice session younger than the resume window): the visit goes on."""
    visit = await queries.visit_of_doctor(session, visit_id, principal.user_id, for_update=True)
    check_call_open(visit.state)
    check_may_resume(principal.role, visit.paused, principal.face_verified_at, ctx.now(),
                     ctx.settings.video_resume_window_seconds)
    visit.paused = False
    visit.version += 1
    visit.touch()
    gate = {"practice_session_id": principal.practice_session_id, "face_verified_at": principal.face_verified_at}
    await append_audit(session, actor, "video.resumed", subject_type="visit", subject_id=visit.id, rule_id="FACE-02",
                       detail=gate)
    await emit(session, "video.resumed", subject_type="visit", subject_id=visit.id, version=visit.version,
               payload=VideoResumed(visit_id=str(visit.id), doctor_user_id=str(visit.doctor_user_id), resumed_at=ctx.now(),
                                    practice_session_id=str(principal.practice_session_id)
                                    if principal.practice_session_id else None,
                                    face_verified_at=principal.face_verified_at))
    await session.commit()
    return visit


async def store_recording(session: AsyncSession, ctx: HospitalContext, visit_id: uuid.UUID, role: str, path: Path,
                          duration_s: float, *, recorded_on: date | None = None,
                          retry_of: uuid.UUID | None = None) -> VisitRecording:
    """One participant's recording into the blob store: SHA-256, size, kept 3 years from the day it was
    recorded (today, or `recorded_on` for a retry) (REC-02).

    The file is sealed a chunk at a time (`store_blob_file`): memory does not grow with the visit's length."""
    today = recorded_on or ctx.today()
    mode = (await session.execute(select(Visit.mode).where(Visit.id == visit_id))).scalar_one()
    content_type = AUDIO_RECORDING_TYPE if mode == "audio" else RECORDING_TYPE
    blob = await store_blob_file(session, ctx.blob_store(), path, content_type=content_type,
                                 retention=RetentionClass.AUDIO_VIDEO, closed_on=today)
    recording = VisitRecording(visit_id=visit_id, participant_role=role, recording_sha256=blob.sha256, size=blob.size,
                               content_type=content_type, duration_s=round(duration_s, 3),
                               purge_not_before=purge_not_before(RetentionClass.AUDIO_VIDEO, today))
    session.add(recording)
    await session.flush()
    await append_audit(session, Actor.system("media-peer"), "video.recording_stored", subject_type="visit",
                       subject_id=visit_id, rule_id="REC-02",
                       detail={"recording_id": recording.id, "role": role, "sha256": blob.sha256, "size": blob.size,
                               "duration_s": recording.duration_s, "purge_not_before": recording.purge_not_before,
                               **({"retry_of": retry_of} if retry_of else {})})
    await session.commit()
    return recording


@dataclass(frozen=True, slots=True)
class FailedRecording:
    """A recording the media peer could not store, whose file is still where it was kept (for a retry)."""

    audit_id: uuid.UUID  # the `video.recording_not_stored` entry
    visit_id: uuid.UUID
    role: str
    duration_s: float
    path: Path
    recorded_on: date


async def failed_recordings(session: AsyncSession, ctx: HospitalContext) -> list[FailedRecording]:
    """Every `video.recording_not_stored` whose kept file still exists (a stored retry deletes the file)."""
    entries = (await session.execute(select(AuditEntry).where(AuditEntry.action == "video.recording_not_stored")
                                     .order_by(col(AuditEntry.seq)))).scalars().all()
    found = []
    for entry in entries:
        path = entry.detail.get("path")
        if path and Path(path).is_file():
            found.append(FailedRecording(entry.id, uuid.UUID(entry.subject_id), str(entry.detail.get("role")),
                                         float(entry.detail.get("duration_s") or 0.0), Path(path),
                                         ctx.local_date(entry.at)))
    await session.rollback()
    return found


async def retry_recording(session: AsyncSession, ctx: HospitalContext, failed: FailedRecording) -> VisitRecording:
    """Store a recording that failed before (the retention date counts from the day it was recorded), then
    delete the kept file: `video.recording_stored` names the failure it repairs (REC-02)."""
    recording = await store_recording(session, ctx, failed.visit_id, failed.role, failed.path, failed.duration_s,
                                      recorded_on=failed.recorded_on, retry_of=failed.audit_id)
    failed.path.unlink(missing_ok=True)
    return recording


async def record_recording_gaps(session: AsyncSession, visit_id: uuid.UUID, outcome: dict[str, Any]) -> None:
    """A participant's recording has gaps (a dropped network, a rejoin): on the record beside the file's own
    chapters, so whoever reviews the visit knows the recording is not missing a part unnoticed (REC-02)."""
    detail = {"role": outcome.get("role"), "gaps": outcome.get("gaps"), "duration_s": outcome.get("duration_s")}
    await append_audit(session, Actor.system("media-peer"), "video.recording_gaps", subject_type="visit",
                       subject_id=visit_id, rule_id="REC-02", detail=detail)
    await session.commit()


async def record_recording_failed(session: AsyncSession, visit_id: uuid.UUID, outcome: dict[str, Any]) -> None:
    """A recording could not be stored (the file stays where the hub left it, for a retry): on the record."""
    detail = {k: outcome.get(k) for k in ("role", "duration_s", "video_frames", "audio_frames", "error", "path")}
    await append_audit(session, Actor.system("media-peer"), "video.recording_not_stored", subject_type="visit",
                       subject_id=visit_id, rule_id="REC-02", detail=detail)
    await session.commit()
