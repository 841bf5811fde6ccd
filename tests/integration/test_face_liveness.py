"""Liveness (FACE-02, issue 19): a verification answers a challenge (moves in a random order, a nonce, a deadline)
with a burst of frames. The bursts are SYNTHETIC (tests/bursts.py): perspective warps, crops and camera noise of
one still photo from ../shared/faces; doctor.wang is enrolled from obama.jpg, the bursts are made of obama2.jpg."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from PIL import ImageOps
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.biometrics.models import FaceChallenge, FaceVerification
from hospital.core.audit import AuditEntry
from tests.bursts import burst, frame, jpeg
from tests.conftest import SHARED, FakeClock
from tests.helpers import login_as

FACES = SHARED / "faces"
OBAMA2 = (FACES / "obama2.jpg").read_bytes()
BIDEN = (FACES / "biden.jpg").read_bytes()


async def challenge(client: AsyncTestClient[Any], headers: dict[str, str]) -> dict[str, Any]:
    issued = await client.post("/api/me/face-challenges", headers=headers)
    assert issued.status_code == 201, issued.text
    return issued.json()  # type: ignore[no-any-return]


async def answer(client: AsyncTestClient[Any], headers: dict[str, str], issued: dict[str, Any],
                 frames: list[bytes], nonce: str | None = None) -> Any:
    return await client.post(
        f"/api/me/face-challenges/{issued['challenge_id']}/burst", headers=headers,
        data={"nonce": nonce or issued["nonce"]},
        files=[("frames", (f"frame{i}.jpg", data, "image/jpeg")) for i, data in enumerate(frames)])


def refused_for(response: Any, reason: str) -> bool:
    body = response.json()
    return response.status_code == 403 and body["rule_id"] == "FACE-02" and body["reason"] == reason


async def test_a_burst_that_follows_the_challenge_opens_a_practice_session(
    client: AsyncTestClient[Any], session: AsyncSession, demo: None
) -> None:
    doctor = await login_as(client, "doctor")
    issued = await challenge(client, doctor)
    assert sorted(issued["steps"]) == ["closer", "turn_left", "turn_right"] and issued["nonce"]
    passed = await answer(client, doctor, issued, burst(OBAMA2, issued["steps"], seed=1))
    assert passed.status_code == 201, passed.text
    gate = await client.get("/api/me/practice-session",
                            headers={"Authorization": f"Bearer {passed.json()['access_token']}"})
    assert gate.status_code == 200
    # The new token is in the doctor's log-in session (SEC-01): it renews, and a log-out ends it.
    renewed = await client.post("/api/auth/renew", headers={"Authorization": f"Bearer {passed.json()['access_token']}"})
    assert renewed.status_code == 200, renewed.text
    face = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert (await client.get("/api/me/practice-session", headers=face)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=face)).status_code == 204
    assert (await client.get("/api/me/practice-session", headers=face)).status_code == 401
    attempt = (await session.execute(select(FaceVerification))).scalar_one()
    assert attempt.passed and attempt.reason == "match"
    audited = (await session.execute(select(AuditEntry.action).where(AuditEntry.rule_id == "FACE-02"))).scalars().all()
    assert {"face.challenge_issued", "practice_session.opened"} <= set(audited)
    # the practice token belongs to the log-in session (SEC-01): logging out ends it with the session
    assert (await client.post("/api/auth/logout", headers=doctor)).status_code == 204
    gate = await client.get("/api/me/practice-session",
                            headers={"Authorization": f"Bearer {passed.json()['access_token']}"})
    assert gate.status_code == 401


async def test_a_still_burst_is_refused(client: AsyncTestClient[Any], demo: None) -> None:
    doctor = await login_as(client, "doctor")
    issued = await challenge(client, doctor)
    still = jpeg(frame(OBAMA2, "neutral", seed=1))
    assert refused_for(await answer(client, doctor, issued, [still] * 8), "still")


async def test_a_burst_with_one_frame_of_another_person_is_refused(client: AsyncTestClient[Any], demo: None) -> None:
    doctor = await login_as(client, "doctor")
    issued = await challenge(client, doctor)
    frames = burst(OBAMA2, issued["steps"], seed=2)
    size = frame(OBAMA2).size  # one camera: the other person's frame has the burst's size
    frames[4] = jpeg(ImageOps.fit(frame(BIDEN, "neutral", seed=5), size))
    refused = await answer(client, doctor, issued, frames)
    assert refused_for(refused, "mismatch") and "frame 5" in refused.json()["detail"]


async def test_a_burst_in_the_wrong_order_is_refused(client: AsyncTestClient[Any], demo: None) -> None:
    doctor = await login_as(client, "doctor")
    issued = await challenge(client, doctor)
    refused = await answer(client, doctor, issued, burst(OBAMA2, list(reversed(issued["steps"])), seed=3))
    assert refused_for(refused, "wrong_order")
    assert refused.json()["performed"] == list(reversed(issued["steps"]))


async def test_a_burst_without_the_moves_is_refused(client: AsyncTestClient[Any], demo: None) -> None:
    doctor = await login_as(client, "doctor")
    issued = await challenge(client, doctor)
    assert refused_for(await answer(client, doctor, issued, burst(OBAMA2, [], per_pose=6, seed=4)), "no_motion")


async def test_a_replayed_burst_is_refused_on_a_new_challenge_and_the_answered_one_is_closed(
    client: AsyncTestClient[Any], demo: None
) -> None:
    doctor = await login_as(client, "doctor")
    first = await challenge(client, doctor)
    frames = burst(OBAMA2, first["steps"], seed=6)
    assert (await answer(client, doctor, first, frames)).status_code == 201
    assert refused_for(await answer(client, doctor, first, burst(OBAMA2, first["steps"], seed=7)), "challenge_used")
    second = await challenge(client, doctor)
    # The recording answers the new challenge's moves only if they come in the same order: send it anyway.
    assert refused_for(await answer(client, doctor, second, frames), "replayed_burst")


async def test_a_late_answer_or_one_with_another_nonce_is_refused(client: AsyncTestClient[Any], clock: FakeClock,
                                                                  session: AsyncSession, demo: None) -> None:
    doctor = await login_as(client, "doctor")
    issued = await challenge(client, doctor)
    clock.advance(seconds=31)
    assert refused_for(await answer(client, doctor, issued, burst(OBAMA2, issued["steps"], seed=8)),
                       "challenge_expired")
    issued = await challenge(client, doctor)
    assert refused_for(await answer(client, doctor, issued, burst(OBAMA2, issued["steps"], seed=9),
                                    nonce="not-the-nonce"), "wrong_nonce")
    answered = (await session.execute(select(FaceChallenge.answered_at))).scalars().all()
    assert len(answered) == 2 and all(answered)  # each challenge is spent by its one answer


async def test_another_clinicians_challenge_cannot_be_answered(client: AsyncTestClient[Any], demo: None) -> None:
    issued = await challenge(client, await login_as(client, "doctor"))
    pharmacist = await login_as(client, "pharmacist")
    response = await answer(client, pharmacist, issued, burst(OBAMA2, issued["steps"], seed=10))
    assert response.status_code == 404


@pytest.mark.parametrize(("environment", "single_image", "allowed"),
                         [("production", None, False), ("test", False, False), ("test", None, True)])
def test_the_legacy_single_image_verification_is_off_in_production(environment: str, single_image: bool | None,
                                                                     allowed: bool) -> None:
    from hospital.config import Settings

    settings = Settings(environment=environment, face_single_image=single_image)
    assert settings.single_image_verification is allowed


async def test_a_single_image_is_refused_when_the_legacy_path_is_off(client: AsyncTestClient[Any], demo: None) -> None:
    client.app.state.ctx.settings = client.app.state.ctx.settings.with_(face_single_image=False)
    refused = await client.post("/api/me/face-verifications", headers=await login_as(client, "doctor"),
                                files={"image": ("capture.jpg", OBAMA2, "image/jpeg")})
    assert refused_for(refused, "liveness_required")
