"""Biometric events: every face verification, pass or fail (FACE-04) → uploadFaceVerification (a method of our
own, non-standard: docs/connector.md); a lock-out after repeated failures is a risk warning on the platform
(pushMedicalDispute, businessType 3, SUP-04)."""

from __future__ import annotations

from typing import Any

from connectors.supervision.mapping.base import After, EventView, MapContext, Mapped, Mapper, NotReported
from connectors.supervision.mapping.codes import flag
from connectors.supervision.mapping.quality import DISPUTE_METHOD, RISK_WARNING
from hospital.contracts.biometrics import FaceVerified, SecurityAlert
from hospital.contracts.video import VideoPaused

__all__ = ["FACE_METHOD", "MAPPERS"]

FACE_METHOD = "uploadFaceVerification"
SCENE = "执业核验"  # the practice-session check (FACE-02); the payload may name another scene
VIDEO_SCENE = "视频诊疗持续核验"  # the face watch during a video visit


NON_STANDARD = ("uploadFaceVerification is our own method, not the SDK's; this platform does not take it "
                "(HOSPITAL_SUPERVISION_FACE_UPLOADS=0)")


def face_verification(event: EventView[FaceVerified], ctx: MapContext) -> Mapped | NotReported:
    if not ctx.face_uploads:
        return NotReported(NON_STANDARD)
    p = event.data
    clinician = ctx.staff(user_id=p.user_id)
    record = {
        **ctx.organ(),
        "verifyID": p.verification_id,
        "doctorCertID": clinician.id_number,
        "doctorName": clinician.name,
        "scene": p.scene or SCENE,
        "verifyTime": ctx.local_time(p.at),
        "verifyResult": flag(p.passed),
        "bussID": p.visit_id or "",
    }
    # The platform finds the clinician by the filed staff record: that goes first.
    return Mapped(FACE_METHOD, [record], after=(After("staff", clinician.staff_id),))


def video_paused(event: EventView[VideoPaused], ctx: MapContext) -> Mapped | NotReported:
    """The face watch lost the doctor during a video visit and paused it (FACE-02): a failed verification of the
    visit, so the platform's real-name check sees that the clinician was not the one verified."""
    if not ctx.face_uploads:
        return NotReported(NON_STANDARD)
    p = event.data
    clinician = ctx.staff(user_id=p.doctor_user_id)
    record = {
        **ctx.organ(),
        "verifyID": f"{event.subject_id}:{event.version}",
        "doctorCertID": clinician.id_number,
        "doctorName": clinician.name,
        "scene": VIDEO_SCENE,
        "verifyTime": ctx.local_time(p.paused_at),
        "verifyResult": flag(False),
        "bussID": p.visit_id,
    }
    return Mapped(FACE_METHOD, [record], after=(After("staff", clinician.staff_id),))


def video_resumed(event: EventView[Any], ctx: MapContext) -> NotReported:
    return NotReported("the call resumes on a new face verification, reported as its own face.verification")


def security_alert(event: EventView[SecurityAlert], ctx: MapContext) -> Mapped:
    """Face verification locked after repeated failures (FACE-04): a risk warning naming the clinician by their
    filed ID (the platform's own staff record), nothing more."""
    p = event.data
    clinician = ctx.staff(user_id=p.user_id)
    until = ctx.local_time(p.locked_until) if p.locked_until else "管理员解除"
    record = {
        **ctx.organ(), "eventID": f"face_lockout:{p.user_id}:{event.version}", "businessType": RISK_WARNING,
        "warningType": "face_lockout", "eventStatus": p.kind,
        "eventDescription": f"医务人员 {clinician.staff_id} 人脸核验连续失败 {p.failed_attempts} 次，锁定至 {until}",
        "eventDate": ctx.local_time(event.created_at), "eventReason": p.kind, "damageDegree": "风险预警",
        "reportPerson": "信息安全管理部门", "reportDate": ctx.local_time(event.created_at),
        "updateTime": ctx.local_time(event.created_at),
    }
    return Mapped(DISPUTE_METHOD, [record], after=(After("staff", clinician.staff_id),))


MAPPERS: dict[str, Mapper] = {
    "face.verification": face_verification,
    "security.alert": security_alert,
    "video.paused": video_paused,
    "video.resumed": video_resumed,
}
