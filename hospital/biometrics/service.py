"""Face enrolment and verification use cases (FACE-01 … FACE-04).

The expensive part (detection and encoding, in the face pool's worker processes) runs before the transaction
opens; the transaction then records the attempt, its audit entry and its outbox event, and commits once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.biometrics import rules
from hospital.biometrics.models import FaceEnrolment, FaceVerification, PracticeSession
from hospital.biometrics.values import FaceTemplate, Verification
from hospital.context import HospitalContext
from hospital.contracts.biometrics import FaceVerified, SecurityAlert
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import AccessRefused, RuleViolation
from hospital.core.outbox import emit
from hospital.identity.events import MayCarryPracticeSession
from hospital.identity.service import reissue
from hospital.identity.tokens import Principal

__all__ = ["CONSENT_TEXT", "IssuedPracticeSession", "add_enrolment", "encode_enrolment", "end_practice_sessions",
           "practice_session_open", "verify_face"]

TEMPLATE_CONTEXT = "face.template"
CONSENT_TEXT = ("本人同意医院采集并加密保存本人人脸特征，仅用于互联网诊疗执业前及关键操作时的实名核验；"
                "不对外提供。 I consent to the hospital keeping an encrypted template of my face, used only to "
                "verify my identity before practice and key acts; it is never disclosed.")


@dataclass(frozen=True, slots=True)
class IssuedPracticeSession:
    practice_session_id: uuid.UUID
    access_token: str
    expires_in: int
    distance: float
    tolerance: float


async def encode_enrolment(ctx: HospitalContext, image: bytes, content_type: str | None, *, consented: bool) -> bytes:
    """Check consent and compute the template (off the event loop). Returns the sealed template."""
    rules.check_biometric_consent(consented)
    template: FaceTemplate = await ctx.face_pool().encode_enrolment(image, content_type)
    return ctx.cipher.seal(template.to_bytes(), context=TEMPLATE_CONTEXT)


async def add_enrolment(session: AsyncSession, ctx: HospitalContext, actor: Actor, *, user_id: uuid.UUID,
                        template_sealed: bytes, source: str) -> FaceEnrolment:
    """Record (or replace) a clinician's enrolment in the caller's transaction."""
    enrolment = (await session.execute(select(FaceEnrolment).where(FaceEnrolment.user_id == user_id))).scalar_one_or_none()
    if enrolment is None:
        enrolment = FaceEnrolment(user_id=user_id, template_sealed=template_sealed, source=source,
                                  consent_at=ctx.now(), consent_text=CONSENT_TEXT)
        session.add(enrolment)
    else:
        enrolment.template_sealed, enrolment.source = template_sealed, source
        enrolment.consent_at, enrolment.failed_attempts, enrolment.locked_until = ctx.now(), 0, None
        enrolment.touch()
    await session.flush()
    await append_audit(session, actor, "face.enrolled", subject_type="user", subject_id=user_id, rule_id="FACE-01",
                       detail={"source": source})
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
        raise AccessRefused("FACE-02", "the face does not match the enrolled clinician"
                                  if verification.reason != "replay" else
                                  "the picture is the enrolment photo itself, not a live face",
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


async def practice_session_open(session: AsyncSession, ctx: HospitalContext, asked: MayCarryPracticeSession) -> bool:
    """Answers identity's `MayCarryPracticeSession`: a renewed token carries the practice session while it is open."""
    practice = await session.get(PracticeSession, asked.practice_session_id)
    return practice is not None and practice.ended_at is None


async def end_practice_sessions(session: AsyncSession, ctx: HospitalContext, actor: Actor, user_id: uuid.UUID,
                                reason: str) -> int:
    """End a clinician's open practice sessions (a suspension): no renewed token carries them (FACE-02)."""
    now = ctx.now()
    open_sessions = (await session.execute(select(PracticeSession).where(
        PracticeSession.user_id == user_id, PracticeSession.ended_at.is_(None)))).scalars().all()  # type: ignore[union-attr]
    for practice in open_sessions:
        practice.ended_at = now
        practice.touch()
        await append_audit(session, actor, "practice_session.ended", subject_type="practice_session",
                           subject_id=practice.id, rule_id="FACE-02", detail={"reason": reason})
    return len(open_sessions)

