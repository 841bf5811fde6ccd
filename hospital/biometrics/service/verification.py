"""Face enrolment and verification (FACE-01 … FACE-04): encoding an admission photo, one face for one clinician,
the verification that opens a practice session, and the liveness challenge (a burst of frames answering moves).

The expensive part (detection and encoding, in the face pool's worker processes) runs before the transaction
opens; the transaction then records the attempt, its audit entry and its outbox event, and commits once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.biometrics import rules
from hospital.biometrics.liveness import LandmarkLiveness
from hospital.biometrics.models import FaceChallenge, FaceEnrolment, FaceFrameSeen, FaceVerification, PracticeSession
from hospital.biometrics.service.consent import require_biometric_consent
from hospital.biometrics.values import FaceTemplate, Verification
from hospital.context import HospitalContext
from hospital.contracts.biometrics import FaceVerified, SecurityAlert
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import AccessRefused, NotFound, RuleViolation
from hospital.core.messages import message_entry, say
from hospital.core.outbox import emit
from hospital.identity.service import reissue
from hospital.identity.tokens import Principal

__all__ = [
    "TEMPLATE_CONTEXT",
    "IssuedChallenge",
    "IssuedPracticeSession",
    "add_enrolment",
    "answer_challenge",
    "check_face_unique",
    "encode_enrolment",
    "issue_challenge",
    "verify_face",
]

TEMPLATE_CONTEXT = "face.template"
_ENROLMENT_LOCK_KEY = 0x4641_4345_3031  # "FACE01": one face, one clinician across concurrent admissions


@dataclass(frozen=True, slots=True)
class IssuedPracticeSession:
    practice_session_id: uuid.UUID
    access_token: str
    expires_in: int
    distance: float
    tolerance: float


async def encode_enrolment(ctx: HospitalContext, image: bytes, content_type: str | None) -> bytes:
    """Compute the template (off the event loop). Returns the sealed template; it takes effect only once the
    clinician gives their own consent (`give_biometric_consent`, FACE-01)."""
    template: FaceTemplate = await ctx.face_pool().encode_enrolment(image, content_type)
    return ctx.cipher.seal(template.to_bytes(), context=TEMPLATE_CONTEXT)


async def check_face_unique(session: AsyncSession, ctx: HospitalContext, template_sealed: bytes,
                            user_id: uuid.UUID | None = None) -> None:
    """FACE-01 / STAFF-01: refuse a template that matches another clinician's enrolment.

    Compares with every enrolment but `user_id`'s own (a re-enrolment of the same person record is allowed):
    one vectorised distance over all templates, so thousands of clinicians cost milliseconds.
    """
    template = FaceTemplate.from_bytes(ctx.cipher.open(template_sealed, context=TEMPLATE_CONTEXT))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Two admissions of one face at once: the second waits for the first to commit, then sees its enrolment.
        # (SQLite's transactions begin IMMEDIATE and are serialised already.)
        await session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ENROLMENT_LOCK_KEY})
    rows = (await session.execute(select(FaceEnrolment.user_id, FaceEnrolment.template_sealed))).all()
    others = [(other, sealed) for other, sealed in rows if other != user_id]
    if not others:
        return
    matrix = np.stack([FaceTemplate.from_bytes(ctx.cipher.open(sealed, context=TEMPLATE_CONTEXT)).vector
                       for _, sealed in others])
    distances = np.linalg.norm(matrix - template.vector, axis=1)
    rules.check_face_of_no_other_clinician(
        {other: float(d) for (other, _), d in zip(others, distances, strict=True)},
        ctx.face_pool().settings.duplicate_distance)


async def add_enrolment(session: AsyncSession, ctx: HospitalContext, actor: Actor, *, user_id: uuid.UUID,
                        template_sealed: bytes, source: str) -> FaceEnrolment:
    """Record (or replace) a clinician's enrolment in the caller's transaction; FACE-01 refuses another's face.
    A new enrolment is pending until the clinician's own consent; a replaced one keeps the consent it has."""
    await check_face_unique(session, ctx, template_sealed, user_id)
    enrolment = (await session.execute(select(FaceEnrolment).where(FaceEnrolment.user_id == user_id))).scalar_one_or_none()
    if enrolment is None:
        enrolment = FaceEnrolment(user_id=user_id, template_sealed=template_sealed, source=source)
        session.add(enrolment)
    else:
        enrolment.template_sealed, enrolment.source = template_sealed, source
        enrolment.failed_attempts, enrolment.locked_until = 0, None
        enrolment.touch()
    await session.flush()
    await append_audit(session, actor, "face.enrolled", subject_type="user", subject_id=user_id, rule_id="FACE-01",
                       detail={"source": source, "pending_consent": enrolment.consent_id is None})
    return enrolment


async def verify_face(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                      image: bytes, content_type: str | None) -> IssuedPracticeSession:
    """Compare a live capture with the enrolment; a pass opens a practice session carried in a new token."""
    rules.check_may_practise(principal.role)
    now = ctx.now()
    enrolment = (await session.execute(
        select(FaceEnrolment).where(FaceEnrolment.user_id == principal.user_id))).scalar_one_or_none()
    if enrolment is None:
        raise RuleViolation("FACE-01", "no face is enrolled for this clinician; ask an administrator")
    await require_biometric_consent(session, principal.user_id)
    rules.check_face_not_locked(enrolment.locked_until, now)
    template = ctx.cipher.open(enrolment.template_sealed, context=TEMPLATE_CONTEXT)
    try:
        verification: Verification = await ctx.face_pool().verify(template, image, content_type)
    except RuleViolation as refused:  # no face, several faces: an attempt too, recorded, not counted as a mismatch
        await _record_attempt(session, ctx, actor, enrolment, passed=False, reason=refused.extra.get("reason", "no_face"),
                              distance=None, tolerance=None)
        await session.commit()
        raise
    record = await _record_attempt(session, ctx, actor, enrolment, passed=verification.match,
                                   reason=str(verification.reason), distance=verification.distance,
                                   tolerance=verification.tolerance)
    if not verification.match:
        await _count_failure(session, ctx, actor, enrolment)
        await session.commit()
        raise AccessRefused("FACE-02", say("face.mismatch" if verification.reason != "replay" else "face.replay"),
                                  reason=str(verification.reason), distance=round(verification.distance, 3),
                                  failed_attempts=enrolment.failed_attempts)
    enrolment.failed_attempts, enrolment.locked_until = 0, None
    practice = PracticeSession(user_id=principal.user_id, verification_id=record.id, verified_at=now)
    session.add(practice)
    await session.flush()
    await append_audit(session, actor, "practice_session.opened", subject_type="practice_session",
                       subject_id=practice.id, rule_id="FACE-02")
    # a token in the same log-in session (SEC-01): a log-out, lock or suspension ends it with the session
    token, expires_in = await reissue(session, ctx, principal, face_verified_at=now, practice_session_id=practice.id)
    await session.commit()
    return IssuedPracticeSession(practice.id, token, expires_in, verification.distance, verification.tolerance)


async def _record_attempt(session: AsyncSession, ctx: HospitalContext, actor: Actor, enrolment: FaceEnrolment, *,
                          passed: bool, reason: str, distance: float | None, tolerance: float | None) -> FaceVerification:
    # Stamped by the hospital's clock, like the visit it gates: the platform compares the two (FACE-02).
    now = ctx.now()
    record = FaceVerification(user_id=enrolment.user_id, passed=passed, reason=reason, distance=distance,
                              tolerance=tolerance, client_address=actor.client_address, created_at=now, updated_at=now)
    session.add(record)
    await session.flush()
    detail = {"passed": passed, "reason": reason, "distance": distance, "tolerance": tolerance}
    await append_audit(session, actor, "face.verification", subject_type="user", subject_id=enrolment.user_id,
                       rule_id="FACE-04", detail=detail)
    await emit(session, "face.verification", subject_type="face_verification", subject_id=record.id,
               payload=FaceVerified(verification_id=str(record.id), user_id=str(enrolment.user_id),
                                    at=record.created_at, passed=passed, reason=reason, distance=distance,
                                    tolerance=tolerance))
    return record


async def _count_failure(session: AsyncSession, ctx: HospitalContext, actor: Actor, enrolment: FaceEnrolment) -> None:
    now = ctx.now()
    enrolment.failed_attempts += 1
    enrolment.locked_until = rules.face_lock_after_failure(enrolment.failed_attempts, ctx.settings.face_max_failures,
                                                           now, ctx.settings.face_lockout_seconds)
    enrolment.touch()
    if enrolment.locked_until is not None:
        detail = {"failed_attempts": enrolment.failed_attempts, "locked_until": enrolment.locked_until}
        await append_audit(session, actor, "face.locked", subject_type="user", subject_id=enrolment.user_id,
                           rule_id="FACE-04", detail=detail)
        # The alert: the supervision platform and the hospital's security officer both read this event.
        await emit(session, "security.alert", subject_type="user", subject_id=enrolment.user_id,
                   payload=SecurityAlert(kind="face_verification_locked", user_id=str(enrolment.user_id),
                                         failed_attempts=enrolment.failed_attempts, locked_until=enrolment.locked_until),
                   version=int(now.timestamp()))


@dataclass(frozen=True, slots=True)
class IssuedChallenge:
    challenge_id: uuid.UUID
    nonce: str
    steps: tuple[str, ...]
    expires_at: datetime
    min_frames: int
    max_frames: int


async def issue_challenge(session: AsyncSession, ctx: HospitalContext, actor: Actor,
                          principal: Principal) -> IssuedChallenge:
    """A liveness challenge (FACE-02): distinct moves in a random order, a nonce, a deadline."""
    rules.check_may_practise(principal.role)
    now = ctx.now()
    enrolment = await _enrolment(session, principal.user_id)
    await require_biometric_consent(session, principal.user_id)
    rules.check_face_not_locked(enrolment.locked_until, now)
    settings = ctx.face_pool().settings
    steps = tuple(_RANDOM.sample(rules.LIVENESS_MOVES, settings.challenge_steps))
    nonce = secrets.token_urlsafe(24)
    challenge = FaceChallenge(user_id=principal.user_id, steps=list(steps), nonce_sha256=_sha256(nonce.encode()),
                              expires_at=now + timedelta(seconds=settings.challenge_seconds), created_at=now,
                              updated_at=now)
    session.add(challenge)
    await session.flush()
    await append_audit(session, actor, "face.challenge_issued", subject_type="face_challenge", subject_id=challenge.id,
                       rule_id="FACE-02", detail={"steps": list(steps), "expires_at": challenge.expires_at})
    await session.commit()
    return IssuedChallenge(challenge.id, nonce, steps, challenge.expires_at, settings.burst_min_frames,
                           settings.burst_max_frames)


async def answer_challenge(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                           challenge_id: uuid.UUID, nonce: str, frames: list[tuple[bytes, str | None]]
                           ) -> IssuedPracticeSession:
    """Judge a burst answering a challenge; a pass opens a practice session as `verify_face` does (FACE-02).

    Refused (each an audited attempt, FACE-04): another clinician's challenge or an unknown one (404), an answer
    after the deadline, with the wrong nonce or to a challenge already answered; a burst any frame of which was
    seen before (a replay); too few or too many frames; and whatever `rules.judge_liveness` refuses.
    """
    rules.check_may_practise(principal.role)
    settings = ctx.face_pool().settings
    now = ctx.now()
    challenge = await session.get(FaceChallenge, challenge_id)
    if challenge is None or challenge.user_id != principal.user_id:
        raise NotFound("no such face challenge for this clinician")
    enrolment = await _enrolment(session, principal.user_id)
    await require_biometric_consent(session, principal.user_id)
    rules.check_face_not_locked(enrolment.locked_until, now)
    steps, template_sealed = tuple(challenge.steps), enrolment.template_sealed
    digests = [_sha256(data) for data, _ in frames]
    refusal: tuple[str, str] | None = None
    if challenge.answered_at is not None:
        refusal = ("challenge_used", "this challenge was already answered; ask for a new one")
    elif now > challenge.expires_at:
        refusal = ("challenge_expired", "the challenge's deadline has passed; ask for a new one")
    elif not secrets.compare_digest(_sha256(nonce.encode()), challenge.nonce_sha256):
        refusal = ("wrong_nonce", "the burst does not answer this challenge's nonce")
    elif not settings.burst_min_frames <= len(frames) <= settings.burst_max_frames:
        refusal = ("frame_count", f"a burst has {settings.burst_min_frames} to {settings.burst_max_frames} frames, "
                                  f"not {len(frames)}")
    elif (await session.execute(select(FaceFrameSeen.id).where(
            FaceFrameSeen.sha256.in_(digests)))).first() is not None:  # type: ignore[attr-defined]
        refusal = ("replayed_burst", "frames of this burst were sent before: a recorded burst is not a live face")
    if refusal is not None:
        return await _refuse_answer(session, ctx, actor, challenge, enrolment, digests, *refusal)
    await session.rollback()  # release the database (SQLite's write lock) while the workers look at the frames
    template = ctx.cipher.open(template_sealed, context=TEMPLATE_CONTEXT)
    try:
        verdict = await (ctx.liveness or LandmarkLiveness(ctx.face_pool())).judge(template, steps, frames)
    except RuleViolation as refused:
        challenge, enrolment = await _reload(session, challenge_id, principal.user_id)
        return await _refuse_answer(session, ctx, actor, challenge, enrolment, digests,
                                    str(refused.extra.get("reason", "no_face")), refused.detail)
    challenge, enrolment = await _reload(session, challenge_id, principal.user_id)
    if challenge.answered_at is not None:  # answered meanwhile by a concurrent request
        return await _refuse_answer(session, ctx, actor, challenge, enrolment, [], "challenge_used",
                                    "this challenge was already answered; ask for a new one")
    if not verdict.passed:
        return await _refuse_answer(session, ctx, actor, challenge, enrolment, digests, verdict.reason, verdict.detail,
                                    distance=verdict.worst_distance, performed=verdict.performed)
    record = await _record_attempt(session, ctx, actor, enrolment, passed=True, reason="match",
                                   distance=verdict.worst_distance, tolerance=settings.tolerance)
    await _close_challenge(session, ctx, challenge, record, digests)
    enrolment.failed_attempts, enrolment.locked_until = 0, None
    practice = PracticeSession(user_id=principal.user_id, verification_id=record.id, verified_at=now)
    session.add(practice)
    await session.flush()
    await append_audit(session, actor, "practice_session.opened", subject_type="practice_session",
                       subject_id=practice.id, rule_id="FACE-02", detail={"liveness": list(verdict.performed)})
    # a token in the same log-in session (SEC-01), as `verify_face` gives: a log-out or suspension ends it too
    token, expires_in = await reissue(session, ctx, principal, face_verified_at=now, practice_session_id=practice.id)
    await session.commit()
    return IssuedPracticeSession(practice.id, token, expires_in, verdict.worst_distance or 0.0, settings.tolerance)


_RANDOM = secrets.SystemRandom()
# Refusals that say something about the face shown count towards the lock-out (FACE-04); the others are protocol.
_COUNTED = frozenset({"mismatch", "replay", "still", "no_motion", "wrong_order", "moves_not_performed",
                      "replayed_burst"})


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _enrolment(session: AsyncSession, user_id: uuid.UUID) -> FaceEnrolment:
    enrolment = (await session.execute(
        select(FaceEnrolment).where(FaceEnrolment.user_id == user_id))).scalar_one_or_none()
    if enrolment is None:
        raise RuleViolation("FACE-01", "no face is enrolled for this clinician; ask an administrator")
    return enrolment


async def _reload(session: AsyncSession, challenge_id: uuid.UUID, user_id: uuid.UUID
                  ) -> tuple[FaceChallenge, FaceEnrolment]:
    challenge = await session.get(FaceChallenge, challenge_id, populate_existing=True)
    assert challenge is not None
    return challenge, await _enrolment(session, user_id)


async def _close_challenge(session: AsyncSession, ctx: HospitalContext, challenge: FaceChallenge,
                           record: FaceVerification, digests: list[str]) -> None:
    challenge.answered_at, challenge.verification_id = ctx.now(), record.id
    challenge.touch()
    for digest in dict.fromkeys(digests):
        session.add(FaceFrameSeen(sha256=digest, challenge_id=challenge.id, created_at=ctx.now(), updated_at=ctx.now()))
    await session.flush()


async def _refuse_answer(session: AsyncSession, ctx: HospitalContext, actor: Actor, challenge: FaceChallenge,
                         enrolment: FaceEnrolment, digests: list[str], reason: str, detail: str, *,
                         distance: float | None = None, performed: tuple[str, ...] = ()) -> IssuedPracticeSession:
    """Record the refused answer (FACE-04), close the challenge, remember the frames, commit, raise FACE-02."""
    record = await _record_attempt(session, ctx, actor, enrolment, passed=False, reason=reason, distance=distance,
                                   tolerance=ctx.face_pool().settings.tolerance)
    if challenge.answered_at is None:
        seen = set((await session.execute(select(FaceFrameSeen.sha256).where(
            FaceFrameSeen.sha256.in_(digests)))).scalars().all())  # type: ignore[attr-defined]
        await _close_challenge(session, ctx, challenge, record, [d for d in digests if d not in seen])
    if reason in _COUNTED:
        await _count_failure(session, ctx, actor, enrolment)
    await session.commit()
    said = f"face.liveness.{reason}"  # the refusals that say something about the face are told in both languages
    raise AccessRefused("FACE-02", say(said, detail=detail) if message_entry(said) else f"liveness refused: {detail}",
                        reason=reason, performed=list(performed),
                        failed_attempts=enrolment.failed_attempts)
