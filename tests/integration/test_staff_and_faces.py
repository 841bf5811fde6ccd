"""Issue 3 over HTTP on both databases: admission (STAFF-01/02), enrolment (FACE-01), verification and the
practice gate (FACE-02), lockout and audit (FACE-04), on the real photos in ../shared/faces."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.biometrics.models import BiometricConsent, FaceEnrolment, FaceVerification, PracticeSession
from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.core.audit import AuditEntry
from hospital.core.errors import AccessRefused
from hospital.core.outbox import OutboxEvent
from hospital.identity.models import User
from hospital.staff.models import StaffMember
from hospital.staff.service import require_clinical_act
from tests.conftest import SHARED, FakeClock
from tests.faces import face_bytes
from tests.helpers import count_rows, event_payload, give_biometric_consent, login, login_as

pytestmark = pytest.mark.requirement("STAFF-01", "STAFF-02", "STAFF-03", "STAFF-04", "FACE-01", "FACE-02", "FACE-04", "INS-02")

FACES = SHARED / "faces"


def photo(name: str) -> bytes:
    return (FACES / name).read_bytes()


def blank_png() -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((640, 480)).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def doctor_application(**changes: Any) -> dict[str, Any]:
    application = {
        "kind": "doctor", "username": "doctor.zhou", "initial_password": "zhou-pass-2026", "real_name": "周医生",
        "id_number": "110105199009093412", "title": "主治医师", "clinical_years": 5, "departments": ["03.03"],
        "credentials": [{"kind": "physician_qualification", "number": "2012310001"},
                        {"kind": "physician_practice", "number": "1103100009", "valid_until": "2029-12-31"}],
        "practice_category": "临床", "practice_scope": "内科专业",
        "practice_institution": "示范市第一人民医院",
    }
    application.update(changes)
    return application


async def admit(client: AsyncTestClient[Any], admin: dict[str, str], application: dict[str, Any],
                image: bytes, content_type: str = "image/jpeg") -> Any:
    return await client.post("/api/staff", headers=admin, data={"application": json.dumps(application)},
                             files={"photo": ("photo.jpg", image, content_type)})


async def verify(client: AsyncTestClient[Any], headers: dict[str, str], image: bytes,
                 content_type: str = "image/jpeg") -> Any:
    return await client.post("/api/me/face-verifications", headers=headers,
                             files={"image": ("capture.jpg", image, content_type)})


async def test_the_enrolled_doctor_is_accepted_by_face_and_then_passes_the_practice_gate(
    client: AsyncTestClient[Any], demo: None
) -> None:
    doctor = await login_as(client, "doctor")
    refused = await client.get("/api/me/practice-session", headers=doctor)
    assert refused.status_code == 403 and refused.json()["rule_id"] == "FACE-02"
    for probe in ("obama2.jpg", "obama3.jpg"):
        passed = await verify(client, doctor, photo(probe))
        assert passed.status_code == 201, passed.text
        assert passed.json()["distance"] < passed.json()["tolerance"] < 0.6
    session_token = {"Authorization": f"Bearer {passed.json()['access_token']}"}
    gate = await client.get("/api/me/practice-session", headers=session_token)
    assert gate.status_code == 200 and gate.json()["practice_session_id"] == passed.json()["practice_session_id"]


async def test_the_practice_session_expires_after_the_window(client: AsyncTestClient[Any], clock: FakeClock,
                                                             demo: None) -> None:
    passed = await verify(client, await login_as(client, "doctor"), photo("obama2.jpg"))
    session_token = {"Authorization": f"Bearer {passed.json()['access_token']}"}
    clock.advance(minutes=31)
    late = await client.get("/api/me/practice-session", headers=session_token)
    assert late.status_code == 403 and late.json()["rule_id"] == "FACE-02"


async def test_another_persons_face_is_refused_and_every_attempt_is_audited(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    doctor = await login_as(client, "doctor")
    refused = await verify(client, doctor, photo("biden.jpg"))
    assert refused.status_code == 403
    assert refused.json()["rule_id"] == "FACE-02" and refused.json()["distance"] > 0.6
    assert (await verify(client, doctor, photo("obama2.jpg"))).status_code == 201
    attempts = (await session.execute(select(FaceVerification).order_by(FaceVerification.created_at))).scalars().all()
    assert [(a.passed, a.reason) for a in attempts] == [(False, "mismatch"), (True, "match")]
    audited = (await session.execute(select(AuditEntry.detail).where(AuditEntry.action == "face.verification"))).scalars().all()
    assert [d["passed"] for d in audited] == [False, True] and all(d["distance"] is not None for d in audited)
    reported = (await session.execute(select(OutboxEvent).where(OutboxEvent.event_type == "face.verification"))).scalars().all()
    assert len(reported) == 2


async def test_the_enrolment_photo_replayed_is_refused(client: AsyncTestClient[Any], demo: None) -> None:
    resized = io.BytesIO()
    Image.open(FACES / "obama.jpg").resize((640, 800)).save(resized, "JPEG", quality=85)
    refused = await verify(client, await login_as(client, "doctor"), resized.getvalue())
    assert refused.status_code == 403 and refused.json()["reason"] == "replay"


@pytest.mark.parametrize(("image", "reason"), [("obama_and_biden.jpg", "several_faces"), ("blank", "no_face")])
async def test_pictures_with_several_faces_or_none_are_refused_with_422(client: AsyncTestClient[Any], demo: None,
                                                                        image: str, reason: str) -> None:
    data = blank_png() if image == "blank" else photo(image)
    refused = await verify(client, await login_as(client, "doctor"), data, "image/png" if image == "blank" else "image/jpeg")
    assert refused.status_code == 422 and refused.json()["rule_id"] == "FACE-02"
    assert refused.json()["reason"] == reason


async def test_uploads_that_are_not_images_or_too_large_are_refused_before_decoding(client: AsyncTestClient[Any],
                                                                                   demo: None) -> None:
    doctor = await login_as(client, "doctor")
    not_image = await verify(client, doctor, b"%PDF-1.7 not a face", "image/jpeg")
    assert not_image.status_code == 415
    too_large = await verify(client, doctor, b"\xff\xd8\xff" + b"0" * (9 * 1024 * 1024))
    assert too_large.status_code == 413


async def test_five_failures_lock_verification_and_raise_an_alert(client: AsyncTestClient[Any], session: AsyncSession,
                                                                  demo: None) -> None:
    doctor = await login_as(client, "doctor")
    for _ in range(5):
        assert (await verify(client, doctor, photo("biden.jpg"))).status_code == 403
    locked = await verify(client, doctor, photo("obama2.jpg"))
    assert locked.status_code == 423 and locked.json()["rule_id"] == "FACE-04"
    alerts = (await session.execute(select(OutboxEvent).where(OutboxEvent.event_type == "security.alert"))).scalars().all()
    assert len(alerts) == 1 and alerts[0].payload["kind"] == "face_verification_locked"
    assert (await session.execute(select(AuditEntry).where(AuditEntry.action == "face.locked"))).scalars().all()


@pytest.mark.parametrize("role", ["patient", "admin"])
async def test_patients_and_admins_never_get_a_practice_session(client: AsyncTestClient[Any], demo: None,
                                                                role: str) -> None:
    headers = await login_as(client, role)
    refused = await verify(client, headers, photo("obama2.jpg"))
    assert refused.status_code == 403
    gate = await client.get("/api/me/practice-session", headers=headers)
    assert gate.status_code == 403 and gate.json()["rule_id"] == "FACE-02"


async def test_a_doctor_is_admitted_and_enrolled_but_the_template_is_never_served(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None, settings: Settings) -> None:
    admin = await login_as(client, "admin")
    admitted = await admit(client, admin, doctor_application(), face_bytes("alex1.jpg"))
    assert admitted.status_code == 201, admitted.text
    body = admitted.text
    assert "template" not in body and "110105199009093412" not in body
    enrolment = (await session.execute(select(FaceEnrolment).join(StaffMember, StaffMember.user_id == FaceEnrolment.user_id)
                                       .where(StaffMember.real_name == "周医生"))).scalar_one()
    assert len(enrolment.template_sealed) > 128 * 8  # sealed 128-d float64 template
    new_doctor = await login(client, "doctor.zhou", "zhou-pass-2026")
    await give_biometric_consent(client, new_doctor)
    assert (await verify(client, new_doctor, face_bytes("alex2.jpg"))).status_code == 201
    staff_event = (await session.execute(select(OutboxEvent).where(OutboxEvent.event_type == "staff.record"))).scalars().all()
    assert any(e.payload["name"] == "周医生" for e in staff_event)  # STAFF-04
    # The ID number travels to the platform but is not kept in the outbox in clear (REC-03).
    assert all("110105199009093412" not in str(e.payload) for e in staff_event)
    assert any(event_payload(e, settings)["id_number"] == "110105199009093412" for e in staff_event)


@pytest.mark.parametrize(
    ("changes", "rule_id"),
    [
        ({"clinical_years": 2}, "STAFF-01"),
        ({"credentials": [{"kind": "physician_qualification", "number": "1"}]}, "STAFF-01"),
        ({"credentials": [{"kind": "physician_qualification", "number": "1"},
                          {"kind": "physician_practice", "number": "2", "valid_until": "2020-01-01"}]}, "STAFF-03"),
        ({"departments": ["04"]}, "INS-02"),
    ],
)
async def test_admissions_that_break_a_rule_are_refused_and_leave_nothing(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None, changes: dict[str, Any], rule_id: str
) -> None:
    admin = await login_as(client, "admin")
    before = await count_rows(session, User, StaffMember, FaceEnrolment, AuditEntry, OutboxEvent)
    refused = await admit(client, admin, doctor_application(**changes), photo("obama2.jpg"))
    assert refused.status_code == 422, refused.text
    assert refused.json()["rule_id"] == rule_id
    assert await count_rows(session, User, StaffMember, FaceEnrolment, AuditEntry, OutboxEvent) == before


@pytest.mark.parametrize(("kind", "face"), [("doctor", "obama2.jpg"), ("pharmacist", "obama3.jpg"),
                                           ("doctor", "biden.jpg")])
async def test_a_clinician_admitted_with_an_enrolled_clinicians_face_is_refused_and_leaves_nothing(
    client: AsyncTestClient[Any], session: AsyncSession, settings: Settings, demo: None, kind: str, face: str
) -> None:
    """FACE-01 / STAFF-01: doctor.wang is enrolled with obama.jpg, pharmacist.li with biden.jpg. Another photo of
    either, under another name and ID number, would let the first clinician's face verify as the second."""
    admin = await login_as(client, "admin")
    before = await count_rows(session, User, StaffMember, FaceEnrolment, AuditEntry, OutboxEvent)
    blobs = sorted(p.name for p in (settings.data_dir / "blobs").rglob("*") if p.is_file())
    application = doctor_application() if kind == "doctor" else doctor_application(
        kind="pharmacist", departments=[],
        credentials=[{"kind": "pharmacist_qualification", "number": "YS2020310009", "valid_until": "2030-12-31"}])
    refused = await admit(client, admin, application, photo(face))
    assert refused.status_code == 422, refused.text
    assert refused.json()["rule_id"] == "FACE-01" and refused.json()["reason"] == "face_of_another_clinician"
    assert refused.json()["distance"] <= refused.json()["duplicate_distance"]
    assert await count_rows(session, User, StaffMember, FaceEnrolment, AuditEntry, OutboxEvent) == before
    assert sorted(p.name for p in (settings.data_dir / "blobs").rglob("*") if p.is_file()) == blobs
    # The same application with the applicant's own face is admitted.
    assert (await admit(client, admin, application, face_bytes("kit1.jpg"))).status_code == 201


async def test_an_admission_photo_with_two_faces_is_refused(client: AsyncTestClient[Any], session: AsyncSession,
                                                            demo: None) -> None:
    admin = await login_as(client, "admin")
    before = await count_rows(session, User, StaffMember)
    refused = await admit(client, admin, doctor_application(), photo("obama_and_biden.jpg"))
    assert refused.status_code == 422 and refused.json()["rule_id"] == "FACE-01"
    assert await count_rows(session, User, StaffMember) == before


async def test_a_suspended_doctor_cannot_practise_until_reinstated(client: AsyncTestClient[Any], session: AsyncSession,
                                                                   demo: None) -> None:
    admin = await login_as(client, "admin")
    staff = (await client.get("/api/staff", headers=admin)).json()
    doctor_id = next(s["staff_id"] for s in staff if s["kind"] == "doctor")
    suspended = await client.post(f"/api/staff/{doctor_id}/suspension", headers=admin, json={"reason": "licence review"})
    assert suspended.status_code == 200 and suspended.json()["suspended"]
    from hospital.core.errors import AccessRefused
    from hospital.identity.models import User as UserRow
    from hospital.staff.service import require_can_practise

    user_id = (await session.execute(select(UserRow.id).where(UserRow.display_name == "王医生"))).scalar_one()
    from hospital.context import HospitalContext  # noqa: F401

    with pytest.raises(AccessRefused) as refused:
        await require_can_practise(session, client.app.state.ctx, user_id)
    assert refused.value.rule_id == "STAFF-03"
    await session.rollback()
    assert (await client.delete(f"/api/staff/{doctor_id}/suspension", headers=admin)).json()["suspended"] is False
    assert (await require_can_practise(session, client.app.state.ctx, user_id)).real_name == "王医生"


async def test_only_admins_admit_staff(client: AsyncTestClient[Any], demo: None) -> None:
    refused = await admit(client, await login_as(client, "doctor"), doctor_application(), photo("obama2.jpg"))
    assert refused.status_code == 403


async def test_a_clinician_practises_only_after_giving_their_own_biometric_consent(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None) -> None:
    """FACE-01: the administrator's admission leaves the enrolment pending; the clinician reads the versioned text
    and consents in their own session (time and address kept) before any verification or clinical act."""
    admin = await login_as(client, "admin")
    assert (await admit(client, admin, doctor_application(), face_bytes("alex1.jpg"))).status_code == 201
    new_doctor = await login(client, "doctor.zhou", "zhou-pass-2026")
    text = (await client.get("/api/me/biometric-consent", headers=new_doctor)).json()
    assert text["given"] is False and "人脸" in text["text"] and text["version"] == "v1"
    before = await count_rows(session, BiometricConsent, PracticeSession, AuditEntry)
    pending = await verify(client, new_doctor, face_bytes("alex2.jpg"))
    assert pending.status_code == 403 and pending.json()["rule_id"] == "FACE-01", pending.text
    member = (await session.execute(select(StaffMember).where(StaffMember.real_name == "周医生"))).scalar_one()
    with pytest.raises(AccessRefused) as pending_act:  # no clinical act either, whatever the token carries
        await require_clinical_act(session, ctx, member.user_id, department="03.03")
    assert pending_act.value.rule_id == "FACE-01"
    await session.rollback()
    wrong = await client.post("/api/me/biometric-consent", headers=new_doctor,
                              json={"version": "v1", "text_sha256": "0" * 64})
    assert wrong.status_code == 422 and wrong.json()["rule_id"] == "FACE-01", wrong.text
    assert await count_rows(session, BiometricConsent, PracticeSession, AuditEntry) == before
    given = await give_biometric_consent(client, new_doctor)
    assert given["given"] is True and given["client_address"] == "testclient" and given["given_at"]
    audited = (await session.execute(select(AuditEntry).where(AuditEntry.action == "face.consent_given"))).scalars().all()
    assert audited[-1].rule_id == "FACE-01" and audited[-1].detail["version"] == "v1"
    assert (await verify(client, new_doctor, face_bytes("alex2.jpg"))).status_code == 201


async def test_a_withdrawn_biometric_consent_deletes_the_template_and_stops_practice(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None, settings: Settings
) -> None:
    """FACE-01: doctor.wang withdraws; the template is deleted, the practice session ends, every clinical act is
    refused (require_clinical_act), and the platform learns the online business is closed (SUP-02)."""
    from tests.integration.visits.journey import accept, book, demo_prior_id, schedule_of

    patient = await login_as(client, "patient")
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text
    doctor = await login_as(client, "doctor")
    verified = await verify(client, doctor, photo("obama2.jpg"))
    assert verified.status_code == 201, verified.text
    in_session = {"Authorization": f"Bearer {verified.json()['access_token']}"}
    empty = await client.post("/api/me/biometric-consent/withdrawal", headers=in_session, json={"reason": ""})
    assert empty.status_code in (400, 422)
    withdrawn = await client.post("/api/me/biometric-consent/withdrawal", headers=in_session,
                                  json={"reason": "本人不再同意保存人脸特征"})
    assert withdrawn.status_code == 200 and withdrawn.json()["given"] is False, withdrawn.text
    assert withdrawn.json()["withdrawn_at"]
    doctor_row = (await session.execute(select(User).where(User.role == "doctor"))).scalars().first()
    assert doctor_row is not None
    doctor_id = doctor_row.id
    assert (await session.execute(select(FaceEnrolment).where(FaceEnrolment.user_id == doctor_row.id))).first() is None
    open_sessions = (await session.execute(select(PracticeSession).where(
        PracticeSession.user_id == doctor_row.id, PracticeSession.ended_at.is_(None)))).all()  # type: ignore[union-attr]
    assert open_sessions == []
    actions = {a.action for a in (await session.execute(select(AuditEntry).where(
        AuditEntry.actor_id == doctor_row.id))).scalars().all()}
    assert {"face.consent_withdrawn", "practice_session.ended", "staff.biometric_consent_withdrawn"} <= actions
    business = [event_payload(e, settings) for e in (await session.execute(select(OutboxEvent).where(
        OutboxEvent.event_type == "staff.business"))).scalars().all()]
    assert any(b["open"] is False and "FACE-01" in (b["reason"] or "") for b in business)
    await session.rollback()
    before = await count_rows(session, AuditEntry, FaceVerification)
    refused = await accept(client, in_session, booked.json()["visit_id"], read_first=False)
    assert refused.status_code == 403 and refused.json()["rule_id"] in ("FACE-01", "FACE-02"), refused.text
    again = await verify(client, doctor, photo("obama2.jpg"))
    assert again.status_code in (403, 422) and again.json()["rule_id"] == "FACE-01", again.text
    assert await count_rows(session, AuditEntry, FaceVerification) == before
    # the one guard of every clinical act refuses by itself, whatever the token carries
    with pytest.raises(AccessRefused) as stopped:
        await require_clinical_act(session, ctx, doctor_id, department="03.04")
    assert stopped.value.rule_id == "FACE-01"
