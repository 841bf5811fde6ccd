"""The clinician's own biometric consent (FACE-01; 个人信息保护法 第二十九条): the current text and its version, giving
it in their own session (the pending enrolment takes effect), withdrawing it (the template is deleted, open
practice sessions end), and the check every verification and clinical act makes.
"""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.biometrics import rules
from hospital.biometrics.models import BiometricConsent, FaceEnrolment
from hospital.biometrics.service.sessions import end_practice_sessions
from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import InvalidInput, RuleViolation

__all__ = [
    "CONSENT_SHA256",
    "CONSENT_TEXT",
    "CONSENT_VERSION",
    "biometric_consent_of",
    "give_biometric_consent",
    "require_biometric_consent",
    "withdraw_biometric_consent",
]

CONSENT_TEXT = ("本人同意医院采集并加密保存本人人脸特征，仅用于互联网诊疗执业前及关键操作时的实名核验；"
                "不对外提供。 I consent to the hospital keeping an encrypted template of my face, used only to "
                "verify my identity before practice and key acts; it is never disclosed.")
CONSENT_VERSION = "v1"  # a new text is a new version: every clinician consents to it again (FACE-01)
CONSENT_SHA256 = hashlib.sha256(CONSENT_TEXT.encode("utf-8")).hexdigest()


async def biometric_consent_of(session: AsyncSession, user_id: uuid.UUID) -> BiometricConsent | None:
    """The clinician's latest biometric consent (given, or given and withdrawn), or None."""
    return (await session.execute(select(BiometricConsent).where(BiometricConsent.user_id == user_id)
                                  .order_by(col(BiometricConsent.given_at).desc()))).scalars().first()


async def require_biometric_consent(session: AsyncSession, user_id: uuid.UUID) -> None:
    """FACE-01 at every verification and clinical act: the clinician's own consent, given and not withdrawn."""
    consent = await biometric_consent_of(session, user_id)
    rules.check_biometric_consent(consent.given_at if consent else None, consent.withdrawn_at if consent else None)


async def give_biometric_consent(session: AsyncSession, ctx: HospitalContext, actor: Actor, version: str,
                                 text_sha256: str) -> BiometricConsent:
    """The clinician, in their own session, accepts the current text (its version and hash, the time and the
    address recorded); the pending enrolment takes effect. Giving it again returns the standing consent."""
    assert actor.user_id is not None
    rules.check_may_practise(actor.role)
    if version != CONSENT_VERSION or text_sha256 != CONSENT_SHA256:
        raise RuleViolation("FACE-01", f"the consent accepted is not the current text {CONSENT_VERSION}: reload it",
                            current_version=CONSENT_VERSION)
    if not actor.client_address.strip():
        raise InvalidInput("the consent must record the client's address")
    enrolment = (await session.execute(select(FaceEnrolment).where(FaceEnrolment.user_id == actor.user_id)
                                       .with_for_update())).scalar_one_or_none()
    if enrolment is None:
        raise RuleViolation("FACE-01", "no face enrolment awaits your consent; the administrator enrols your face "
                                       "(a withdrawn consent deleted the template)")
    standing = await biometric_consent_of(session, actor.user_id)
    if standing is not None and standing.withdrawn_at is None and standing.version == version:
        return standing
    now = ctx.now()
    consent = BiometricConsent(user_id=actor.user_id, version=version, text_sha256=text_sha256, given_at=now,
                               client_address=actor.client_address)
    session.add(consent)
    await session.flush()
    enrolment.consent_id, enrolment.consent_at, enrolment.consent_text = consent.id, now, CONSENT_TEXT
    enrolment.touch()
    await append_audit(session, actor, "face.consent_given", subject_type="user", subject_id=actor.user_id,
                       rule_id="FACE-01", detail={"version": version, "text_sha256": text_sha256,
                                                  "client_address": actor.client_address})
    await session.commit()
    return consent


async def withdraw_biometric_consent(session: AsyncSession, ctx: HospitalContext, actor: Actor, user_id: uuid.UUID,
                                     reason: str) -> BiometricConsent:
    """The clinician withdraws: the consent is marked, the template deleted, open practice sessions end (in the
    caller's transaction; staff.service reports the stop of practice)."""
    consent = await biometric_consent_of(session, user_id)
    if consent is None or consent.withdrawn_at is not None:
        raise RuleViolation("FACE-01", "there is no standing biometric consent to withdraw")
    consent.withdrawn_at, consent.withdrawal_reason = ctx.now(), reason
    consent.withdrawal_address = actor.client_address
    consent.touch()
    enrolment = (await session.execute(select(FaceEnrolment).where(FaceEnrolment.user_id == user_id))).scalar_one_or_none()
    if enrolment is not None:
        await session.delete(enrolment)  # the template itself is gone, not only disabled
    await session.flush()
    await append_audit(session, actor, "face.consent_withdrawn", subject_type="user", subject_id=user_id,
                       rule_id="FACE-01", detail={"version": consent.version, "reason": reason,
                                                  "client_address": actor.client_address,
                                                  "template_deleted": enrolment is not None})
    await end_practice_sessions(session, ctx, actor, user_id, reason="face.consent_withdrawn")
    return consent
