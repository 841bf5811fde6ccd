"""The patient's whole journey over HTTP, one function per step, shared by bench/api_load.py and the replica test
(tests/integration/operations/test_replicas.py). Not a benchmark itself (no JSON line).

A patient registers, logs in, accepts the consent, states no known allergies (RX-04), files a prior diagnosis
(issued by the demo's registered institution), books at the published fee it accepts (INS-03); the demo doctor
opens the prior-diagnosis document (REV-04), accepts, starts, writes and signs the EMR, dry-runs the prescription
and signs the draft it checked (RX-07); the demo pharmacist approves it and dispenses.
The clinicians verify their faces once and again every few minutes (a signature needs one within 5 minutes,
FACE-03); the demo seed gave their own biometric consent (FACE-01), and each registers a device key on first use
and signs on it in two trips (RX-05). The pharmacist decides without claiming first: a claim is optional (RX-06).
Every response's `X-Hospital-Replica` is recorded, so a caller sees where each request landed.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from stdnum.cn import ric

from hospital.core.clock import CHINA_TIME, local_date
from hospital.demo import DEMO_INSTITUTION_REGISTRATION, DEMO_USERS, demo_pdf
from hospital.signing.device import DeviceKey

__all__ = ["EMR", "STEPS", "Clinician", "Journey", "Recorder", "clinicians", "patient_journey", "publish_schedule"]

EMR = {"chief_complaint": "血压控制复诊", "present_illness": "高血压病史3年，规律服药，近期血压 135/85 mmHg",
       "allergy_history": "无", "diagnosis_icd10": "I10", "diagnosis_name": "原发性高血压",
       "treatment_advice": "继续原方案服药，低盐饮食，1个月后复诊", "past_history": "无糖尿病史"}
PRESCRIPTION = {"diagnoses": [{"icd10": "I10", "name": "原发性高血压"}],
                "items": [{"drug_code": "C08CA01-tab-5mg", "dose_per_time": "5", "times_per_day": 1, "days_supply": 7,
                           "quantity_packs": 1, "usage": "口服，每日早晨"}]}
STEPS = ("register", "login", "consent", "prior_diagnosis", "book", "accept", "start", "emr", "emr_sign_off",
         "prescribe", "review", "dispense")
DIGITS = "零一二三四五六七八九"


@dataclass
class Recorder:
    """Durations per step and the replica of every response, in order."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    replicas: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def seen(self, response: httpx.Response) -> httpx.Response:
        self.replicas.append(response.headers.get("x-hospital-replica", "?"))
        return response


async def call(client: httpx.AsyncClient, recorder: Recorder, method: str, url: str, expect: int | tuple[int, ...],
               **kw: Any) -> Any:
    response = recorder.seen(await client.request(method, url, **kw))
    if response.status_code not in ((expect,) if isinstance(expect, int) else expect):
        raise AssertionError(f"{method} {url}: {response.status_code} {response.text[:500]}")
    return response.json() if response.content and "json" in response.headers.get("content-type", "") else None


class Clinician:
    """A demo clinician's practice-session headers, verified again when older than `fresh_s`."""

    def __init__(self, username: str, password: str, photo: bytes, fresh_s: float = 200) -> None:
        self.username, self.password, self.photo, self.fresh_s = username, password, photo, fresh_s
        self._headers: dict[str, str] | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()
        self.device: tuple[str, DeviceKey, list[str]] | None = None

    async def headers(self, client: httpx.AsyncClient, recorder: Recorder) -> dict[str, str]:
        async with self._lock:
            if self._headers is None or time.monotonic() - self._at > self.fresh_s:
                token = await call(client, recorder, "POST", "/api/auth/login", 200,
                                   json={"username": self.username, "password": self.password})
                plain = {"Authorization": f"Bearer {token['access_token']}"}
                verified = await call(client, recorder, "POST", "/api/me/face-verifications", 201, headers=plain,
                                      files={"image": ("capture.jpg", self.photo, "image/jpeg")})
                self._headers = {"Authorization": f"Bearer {verified['access_token']}"}
                self._at = time.monotonic()
                if self.device is None:  # RX-05: the clinician's own key, registered while the face is fresh
                    key = DeviceKey.generate()
                    nonce = (await call(client, recorder, "POST", "/api/me/signing-devices/nonce", 200,
                                        headers=self._headers))["nonce"]
                    device = await call(client, recorder, "POST", "/api/me/signing-devices/", 201,
                                        headers=self._headers, json={"name": "bench", "nonce": nonce,
                                                                     "public_key": key.public_key_b64(),
                                                                     "proof": key.prove(nonce)})
                    self.device = (device["device_id"], key, device["certificate_chain_pem"])
            return self._headers

    async def signed(self, client: httpx.AsyncClient, recorder: Recorder, url: str, expect: int,
                     body: dict[str, Any]) -> Any:
        """A signing act in its two trips: 428 with the prepared payload, then the device's JWS (RX-05)."""
        headers = await self.headers(client, recorder)
        assert self.device is not None
        device_id, key, chain = self.device
        body = {**body, "signature": {"device_id": device_id}}
        problem = await call(client, recorder, "POST", url, 428, headers=headers, json=body)
        return await call(client, recorder, "POST", url, expect, headers=headers, json={**body, "signature": {
            "device_id": device_id, "signing_request": problem["signing_request"],
            "jws": key.sign(problem["payload_b64"], chain)}})


def clinicians(faces: Path) -> tuple[Clinician, Clinician]:
    """doctor.wang (enrolled from obama.jpg, verified with obama2.jpg) and pharmacist.li (enrolled from biden.jpg,
    verified with his face cut out of the photograph of both presidents: the enrolment photo itself is a replay)."""
    doctor, pharmacist = (next(u for u in DEMO_USERS if u.username == name) for name in ("doctor.wang", "pharmacist.li"))
    buffer = io.BytesIO()
    Image.open(faces / "obama_and_biden.jpg").crop((600, 300, 1080, 800)).save(buffer, "JPEG", quality=92)
    return (Clinician(doctor.username, doctor.password, (faces / "obama2.jpg").read_bytes()),
            Clinician(pharmacist.username, pharmacist.password, buffer.getvalue()))


async def publish_schedule(client: httpx.AsyncClient, doctor: Clinician, recorder: Recorder, capacity: int) -> str:
    """A schedule of doctor.wang in three days in 心血管内科 with `capacity` places; its id."""
    day = local_date(datetime.now(UTC)) + timedelta(days=3)
    starts = datetime(day.year, day.month, day.day, 13, tzinfo=CHINA_TIME)
    made = await call(client, recorder, "POST", "/api/schedules", 201, headers=await doctor.headers(client, recorder),
                      json={"department_code": "03.04", "starts_at": starts.isoformat(),
                            "ends_at": (starts + timedelta(hours=4)).isoformat(), "capacity": capacity})
    return str(made["schedule_id"])


def identity(n: int) -> tuple[str, str, str]:
    """A distinct real name, resident ID number and mobile phone for patient `n`."""
    birth = date(1950, 1, 1) + timedelta(days=n % 18000)
    body = f"110101{birth:%Y%m%d}{n % 1000:03d}"
    name = "测试" + "".join(DIGITS[int(d)] for d in str(n))
    return name, body + ric.calc_check_digit(body + "0"), f"139{n:08d}"


@dataclass
class Journey:
    schedule_id: str
    doctor: Clinician
    pharmacist: Clinician


async def patient_journey(client: httpx.AsyncClient, journey: Journey, n: int, recorder: Recorder,
                          between: Callable[[str], Awaitable[None]] | None = None, *, mode: str = "text",
                          state: dict[str, Any] | None = None) -> str:
    """Patient `n`'s whole journey; returns the prescription's id. `between(step)` runs after each step.
    `mode`: the visit booked (text, audio, video); `state` is filled as the journey goes (the patient's headers,
    the visit's id …), for a `between` that acts in the visit (a video call after the start)."""
    name, id_number, phone = identity(n)
    password = "patient-pass-2026"
    state = {} if state is None else state

    async def step(label: str, work: Callable[[], Awaitable[None]]) -> None:
        started = time.perf_counter()
        await work()
        recorder.seconds[label].append(time.perf_counter() - started)
        if between is not None:
            await between(label)

    async def register() -> None:
        await call(client, recorder, "POST", "/api/patients", 201,
                   json={"real_name": name, "id_number": id_number, "phone": phone, "password": password})

    async def login() -> None:
        token = await call(client, recorder, "POST", "/api/auth/login", 200,
                           json={"username": phone, "password": password})
        state["patient"] = {"Authorization": f"Bearer {token['access_token']}"}

    async def consent() -> None:
        version = (await call(client, recorder, "GET", "/api/consent", 200))["version"]
        await call(client, recorder, "POST", "/api/consent/acceptances", 201, headers=state["patient"],
                   json={"version": version})
        await call(client, recorder, "PUT", "/api/me/safety-context", 200, headers=state["patient"],
                   json={"allergy_status": "no_known_allergies"})  # RX-04: nothing is prescribed without it

    async def prior_diagnosis() -> None:
        diagnosed = local_date(datetime.now(UTC)) - timedelta(days=60)
        filed = await call(client, recorder, "POST", "/api/prior-diagnoses", 201, headers=state["patient"], data={
            "icd10_code": "I10", "diagnosis_name": "原发性高血压", "document_type": "outpatient_record",
            "institution_name": "示范市第一人民医院", "institution_registration_number": DEMO_INSTITUTION_REGISTRATION,
            "diagnosed_on": diagnosed.isoformat()},
            files={"document": ("record.pdf", demo_pdf([f"Outpatient record {n}"]), "application/pdf")})
        state["prior"] = filed["prior_diagnosis_id"]

    async def book() -> None:
        # INS-03: the page shows the mode's published fee from the public schedule list; the patient accepts it
        listed = await call(client, recorder, "GET", "/api/schedules", 200, params={"department": "03.04"})
        fee = next(s["prices"][mode] for s in listed if s["schedule_id"] == journey.schedule_id)
        booked = await call(client, recorder, "POST", "/api/visits", 201, headers=state["patient"], json={
            "schedule_id": journey.schedule_id, "prior_diagnosis_id": state["prior"], "mode": mode,
            "fee_cny": fee, "fee_accepted": True})
        state["visit"] = booked["visit_id"]

    async def doctor(method: str, path: str, expect: int, **kw: Any) -> Any:
        return await call(client, recorder, method, path.format(visit=state["visit"]), expect,
                          headers=await journey.doctor.headers(client, recorder), **kw)

    async def accept() -> None:
        await doctor("GET", "/api/visits/{visit}/prior-diagnosis/document", 200)  # REV-04: read before accepting
        await doctor("POST", "/api/visits/{visit}/accept", 200, json={"revisit_confirmed": True})

    async def start() -> None:
        await doctor("POST", "/api/visits/{visit}/start", 200)

    async def emr() -> None:
        await doctor("PUT", "/api/visits/{visit}/medical-record", 200, json=EMR)

    async def emr_sign_off() -> None:
        await journey.doctor.signed(client, recorder, f"/api/visits/{state['visit']}/medical-record/sign-off", 200, {})

    async def prescribe() -> None:
        checked = await doctor("POST", "/api/visits/{visit}/prescriptions/check", 200, json=PRESCRIPTION)  # RX-07
        if not checked["signable"]:
            raise AssertionError(f"the dry run refuses the journey's prescription: {checked}")
        state["rx"] = (await journey.doctor.signed(
            client, recorder, f"/api/visits/{state['visit']}/prescriptions", 201,
            {**PRESCRIPTION, "draft_sha256": checked["draft_sha256"]}))["prescription_id"]

    async def review() -> None:
        await journey.pharmacist.signed(client, recorder, f"/api/prescriptions/{state['rx']}/review", 200,
                                        {"decision": "approve", "reasons": []})

    async def dispense() -> None:
        await call(client, recorder, "POST", f"/api/prescriptions/{state['rx']}/dispensing", (200, 201),
                   headers=await journey.pharmacist.headers(client, recorder),
                   json={"courier_kind": "third_party", "courier_name": "顺丰速运"})

    for label, work in zip(STEPS, (register, login, consent, prior_diagnosis, book, accept, start, emr, emr_sign_off,
                                   prescribe, review, dispense), strict=True):
        await step(label, work)
    return str(state["rx"])
